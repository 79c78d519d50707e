/**
 * `macvlanctl demo` as a user runs it: the whole main job on the sandbox LAN,
 * with every check as expected, and nothing left behind — also after Ctrl-C.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { BIN } from './support/cli.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('demo e2e: SKIPPED — needs root');

function leftovers(): string[] {
  const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.startsWith('mvdemo'));
  const dirs = readdirSync(tmpdir()).filter((d) => d.startsWith('macvlanctl-lab-mvdemo'));
  const daemons = spawnSync('pgrep', ['-f', 'macvlanctl-lab-mvdemo'], { encoding: 'utf8' }).stdout.trim();
  return [...netns, ...dirs, ...(daemons ? [`pids ${daemons}`] : [])];
}

describe.skipIf(!root)('macvlanctl demo', () => {
  it('shows the host cut off before apply and reachable both ways after, then removes everything', () => {
    const r = spawnSync(process.execPath, [BIN, 'demo'], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/✓ container → its host 198\.51\.100\.24: does not reach/);
    expect(r.stdout).toMatch(/✓ container → its host 198\.51\.100\.24: reaches/);
    expect(r.stdout).toMatch(/✓ host → container 198\.51\.100\.192: reaches/);
    expect(r.stdout).toMatch(/demo-lan {2}healthy/);
    expect(r.stdout).toMatch(/7 of 7 checks as expected/);
    expect(leftovers()).toEqual([]);
  }, 150_000);

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
