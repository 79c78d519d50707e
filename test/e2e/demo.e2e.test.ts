/**
 * `macvlanctl demo` as a user runs it: the whole main job on the sandbox LAN,
 * with every check as expected, and nothing left behind — also after Ctrl-C
 * or when the reader of its output goes away.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { stripVolatile } from './lab.js';
import { BIN } from './support/cli.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('demo e2e: SKIPPED — needs root');

function leftovers(): string[] {
  const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.startsWith('mvdemo'));
  const dirs = readdirSync(tmpdir()).filter((d) => d.startsWith('macvlanctl-lab-mvdemo'));
  const daemons = spawnSync('pgrep', ['-f', 'macvlanctl-lab-mvdemo'], { encoding: 'utf8' }).stdout.trim();
  return [...netns, ...dirs, ...(daemons ? [`pids ${daemons}`] : [])];
}

/** This machine's own network and firewall, which the demo must never touch. */
function rootNamespace(): string {
  const ip = (args: string[]) => JSON.parse(spawnSync('ip', ['-json', ...args], { encoding: 'utf8' }).stdout || '[]') as unknown;
  const text = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    // comments carry a timestamp, chain counters move with traffic
    return r.error ? 'absent' : r.stdout.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '')).join('\n');
  };
  return JSON.stringify({
    net: stripVolatile({ links: ip(['link', 'show']), addrs: ip(['addr', 'show']), routes4: ip(['-4', 'route', 'show', 'table', 'all']), routes6: ip(['-6', 'route', 'show', 'table', 'all']) }),
    iptables: text('iptables-save', []),
    ip6tables: text('ip6tables-save', []),
    nft: text('nft', ['list', 'ruleset']),
    // where dockerd and the persistence backends would write if they escaped the sandbox
    files: ['/etc/docker', '/etc/systemd/network', '/etc/NetworkManager/system-connections', '/etc/network/interfaces.d', '/run/docker', '/run/containerd', '/var/lib/macvlanctl', '/run/macvlanctl'].map(
      (d) => `${d}: ${existsSync(d) ? readdirSync(d).sort().join(' ') : 'absent'}`,
    ),
  }, null, 1);
}

describe.skipIf(!root)('macvlanctl demo', () => {
  it('shows the host cut off before apply and reachable both ways after, then removes everything', () => {
    const before = rootNamespace();
    const r = spawnSync(process.execPath, [BIN, 'demo'], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/✓ container → its host 198\.51\.100\.24: does not reach/);
    expect(r.stdout).toMatch(/✓ container → its host 198\.51\.100\.24: reaches/);
    expect(r.stdout).toMatch(/✓ host → container 198\.51\.100\.192: reaches/);
    expect(r.stdout).toMatch(/demo-lan {2}healthy/);
    expect(r.stdout).toMatch(/7 of 7 checks as expected/);
    expect(leftovers()).toEqual([]);
    expect(rootNamespace()).toBe(before);
  }, 150_000);

  it('--keep leaves the sandbox running, with the network applied; --cleanup removes it', () => {
    const r = spawnSync(process.execPath, [BIN, 'demo', '--keep'], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
    try {
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/7 of 7 checks as expected/);
      expect(r.stdout).toMatch(/still running \(--keep\)/);
      const netns = /nsenter --net=\/run\/netns\/(mvdemo[a-z0-9]+-h1) bash/.exec(r.stdout)?.[1];
      expect(netns).toBeDefined();
      // the shim is still there, in the sandbox host and nowhere else
      const link = spawnSync('ip', ['-n', netns!, 'link', 'show', 'demo-lan-shim'], { encoding: 'utf8' });
      expect(link.status, link.stderr).toBe(0);
      expect(spawnSync('ip', ['link', 'show', 'demo-lan-shim'], { encoding: 'utf8' }).status).not.toBe(0);
    } finally {
      const c = spawnSync(process.execPath, [BIN, 'demo', '--cleanup'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
      expect(c.status, c.stdout + c.stderr).toBe(0);
      expect(c.stdout).toMatch(/Removed sandbox\(es\): mvdemo/);
    }
    expect(leftovers()).toEqual([]);
  }, 150_000);

  /** Like `| head -3`: reads the child's stdout until the sandbox exists, then closes the pipe; the exit code. */
  async function readUntilReadyThenClose(child: ReturnType<typeof spawn>): Promise<number | null> {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready in')) child.stdout!.destroy();
    });
    return new Promise<number | null>((resolve) => child.on('close', resolve));
  }

  it('removes the sandbox when its reader goes away (macvlanctl demo | head)', async () => {
    const code = await readUntilReadyThenClose(spawn(process.execPath, [BIN, 'demo'], { env: { ...process.env, NO_COLOR: '1' } }));
    expect(code).toBe(141);
    expect(leftovers()).toEqual([]);
  }, 60_000);

  it('removes the sandbox when the reader of stdout and stderr goes away (macvlanctl demo 2>&1 | head)', async () => {
    // One pipe for both, as the shell makes it: the "removing the sandbox" line then fails to write too.
    const code = await readUntilReadyThenClose(spawn('sh', ['-c', `exec "${process.execPath}" "${BIN}" demo 2>&1`], { env: { ...process.env, NO_COLOR: '1' } }));
    expect(code).toBe(141);
    expect(leftovers()).toEqual([]);
  }, 60_000);

  it('removes the sandbox on Ctrl-C while it is still being built', async () => {
    const child = spawn(process.execPath, [BIN, 'demo'], { env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Building the sandbox LAN')) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(out).not.toMatch(/ready in/);
    expect(code).toBe(130);
    expect(leftovers()).toEqual([]);
  }, 60_000);

  it('removes the sandbox on Ctrl-C', async () => {
    const child = spawn(process.execPath, [BIN, 'demo'], { env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!sent && out.includes('container web is on the LAN')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(out).toMatch(/container web is on the LAN/);
    expect(code).toBe(130);
    // a docker CLI call in flight at the signal may take a moment to notice its engine is gone
    for (let i = 0; i < 50 && leftovers().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(leftovers()).toEqual([]);
  }, 150_000);
});
