/**
 * The host lock against a real dockerd and kernel in a lab namespace (issue
 * #14 items 2 and 3): `up` racing `apply` and `up` racing `up` never end with
 * exit 0 and a broken shim; a full (ENOSPC) or read-only root is reported at
 * once as what it is, with nothing changed; an empty lock left by a full disk
 * is taken over. Mounts are made in a private mount namespace (`unshare -m`)
 * inside the lab host's network namespace, so nothing outside sees them.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, type LabHost, createLab, hostFingerprint } from './lab.js';
import { BIN, type CliResult, macvlanctl } from './support/cli.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('lock e2e: SKIPPED — needs root to build network namespaces, mount and run dockerd');

const RECIPE = ['mynet', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--aux-address', 'host=198.51.100.223'];
const SHIM = 'mynet-shim';

/** What is wrong with the shim, or '' when it is up with its address and its route. */
async function shimProblems(h: LabHost): Promise<string> {
  const link = await h.exec(['ip', '-json', 'addr', 'show', 'dev', SHIM]);
  if (link.code !== 0) return 'no shim';
  const [l] = JSON.parse(link.stdout) as { flags: string[]; addr_info: { local: string; prefixlen: number }[] }[];
  const problems: string[] = [];
  if (!l!.flags.includes('UP')) problems.push('shim down');
  if (!l!.addr_info.some((a) => a.local === '198.51.100.223' && a.prefixlen === 32)) problems.push('no address');
  const route = await h.exec(['ip', '-json', 'route', 'show', '198.51.100.192/27']);
  if (!(JSON.parse(route.stdout || '[]') as { dev: string }[]).some((r) => r.dev === SHIM)) problems.push('no route');
  return problems.join(', ');
}

/** exit 0, or a clear LOCKED refusal; anything else is a failure of the round. */
function okOrLocked(r: CliResult, what: string): void {
  if (r.code === 0) return;
  expect(r.json?.error?.code, `${what} exit ${r.code}: ${r.stdout}${r.stderr}`).toBe('LOCKED');
}

describe.skipIf(!isRoot)('the host lock in the lab', () => {
  let lab: Lab;
  let h: LabHost;
  let work: string;
  let root: string;
  const previousLockDir = process.env.MACVLANCTL_LOCK_DIR;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'macvlanctl-lock-e2e-'));
    root = join(work, 'root');
    mkdirSync(root);
    // the host locks of this file's runs, instead of the real /run/macvlanctl (inherited by every CLI run)
    process.env.MACVLANCTL_LOCK_DIR = join(work, 'run-macvlanctl');
    lab = await createLab({ docker: true, hosts: [{ name: 'h1', address: '198.51.100.24' }] });
    h = lab.host('h1');
  }, 120_000);
  afterAll(async () => {
    await lab?.destroy();
    if (previousLockDir === undefined) delete process.env.MACVLANCTL_LOCK_DIR;
    else process.env.MACVLANCTL_LOCK_DIR = previousLockDir;
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /**
   * Runs the CLI inside a private mount namespace of the lab host, after `setup`
   * (shell, may use $R for the root): its mounts die with the command. `after`
   * (shell) runs once the CLI has finished; its output goes to stderr.
   */
  async function inMountNamespace(setup: string, args: string[], r: string, after = ''): Promise<CliResult & { ms: number }> {
    const cli = [process.execPath, BIN, ...args, '--json', '--root', r];
    if (['apply', 'destroy'].includes(args[0]!)) cli.push('--docker-host', h.docker!.dockerHost);
    if (args[0] === 'apply') cli.push('--no-scan');
    const script = `set -e; R="$1"; shift; ${setup}; set +e; "$@"; rc=$?; { ${after || 'true'}; } >&2; exit $rc`;
    const t0 = Date.now();
    const res = await h.exec(['unshare', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh', r, ...cli], {
      timeoutMs: 60_000,
      env: { ...process.env, NO_COLOR: '1' },
    });
    const ms = Date.now() - t0;
    return { code: res.code, stdout: res.stdout, stderr: res.stderr, json: JSON.parse(res.stdout), ms };
  }

  it('setup: the recipe applied', async () => {
    const r = await macvlanctl(h, ['apply', ...RECIPE, '--yes'], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(await shimProblems(h)).toBe('');
  });

  it('--lock-wait on up and down: 0 fails at once with LOCKED; a longer wait than the default 5 s outlasts a holder that takes 6 s', async () => {
    // A holder in another pid namespace cannot be looked up, so it is never taken for stale: the lock stays held until removed.
    const ns = (await h.exec(['stat', '-L', '-c', '%d %i', '/proc/self/ns/net'], { check: true })).stdout.trim().split(' ');
    const lock = join(process.env.MACVLANCTL_LOCK_DIR!, `net-${ns[0]}-${ns[1]}.lock`);
    mkdirSync(process.env.MACVLANCTL_LOCK_DIR!, { recursive: true });
    const hold = () => writeFileSync(lock, JSON.stringify({ pid: 1, command: 'apply elsewhere', since: new Date().toISOString(), pidns: '1' }));
    try {
      hold();
      for (const verb of ['up', 'down']) {
        const t0 = Date.now();
        const r = await macvlanctl(h, [verb, 'mynet', '--lock-wait', '0', '--json'], { root });
        expect(r.code, r.stdout + r.stderr).toBe(1);
        expect(r.json!.error!.code).toBe('LOCKED');
        expect(Date.now() - t0).toBeLessThan(3000);
      }
      const t0 = Date.now();
      const release = setTimeout(() => rmSync(lock, { force: true }), 6000);
      const r = await macvlanctl(h, ['up', 'mynet', '--lock-wait', '20', '--json'], { root });
      clearTimeout(release);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(6000);
      expect(await shimProblems(h)).toBe('');
    } finally {
      rmSync(lock, { force: true });
    }
  }, 60_000);

  for (const rival of ['apply', 'up'] as const) {
    it(`up racing ${rival}, 20 rounds: every run exits 0 or LOCKED, and the shim ends up with its address and route`, async () => {
      for (let round = 0; round < 20; round++) {
        // Both have work to do: the shim is down (which drops its route) or gone.
        await h.exec(['ip', 'link', round % 2 ? 'del' : 'set', ...(round % 2 ? [SHIM] : [SHIM, 'down'])], { check: true });
        const rivalArgs = rival === 'apply' ? ['apply', ...RECIPE, '--yes', '--json'] : ['up', 'mynet', '--json'];
        const [a, b] = await Promise.all([macvlanctl(h, ['up', 'mynet', '--json'], { root }), macvlanctl(h, rivalArgs, { root })]);
        okOrLocked(a, `round ${round}: up`);
        okOrLocked(b, `round ${round}: ${rival}`);
        expect(await shimProblems(h), `round ${round}, exits ${a.code}/${b.code}:\n${a.stderr}\n${b.stderr}`).toBe('');
      }
    }, 180_000);
  }

  it('a root filled to ENOSPC: apply fails at once with the errno and the path, leaves no empty lock, changes nothing', async () => {
    const full = join(work, 'full');
    mkdirSync(full);
    const before = await hostFingerprint(h);
    const r = await inMountNamespace(
      'mount -t tmpfs -o size=64k tmpfs "$R"; mkdir -p "$R/run/macvlanctl"; dd if=/dev/zero of="$R/fill" bs=4k 2>/dev/null || true',
      ['apply', ...RECIPE.map((a) => (a === 'mynet' ? 'fullnet' : a)), '--yes'],
      full,
      'echo "left: [$(ls -A "$R/run/macvlanctl")]"',
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.json!.error!.code).toBe('SYSTEM_ERROR');
    expect(r.json!.error!.message).toContain(`${full}/run/macvlanctl/apply.lock`);
    expect(r.json!.error!.message).toMatch(/no space left on device \(ENOSPC\)/);
    expect(r.ms).toBeLessThan(3000); // not after the 5 s wait
    expect(r.stderr).toContain('left: []');
    expect(await hostFingerprint(h)).toBe(before);
  });

  it('a read-only root: apply is refused at once (exit 2, the read-only directory named), even over an empty lock left there; up still works', async () => {
    // What a full disk left before the root went read-only: an empty lock, a minute old.
    mkdirSync(join(root, 'run', 'macvlanctl'), { recursive: true });
    const lock = join(root, 'run', 'macvlanctl', 'apply.lock');
    writeFileSync(lock, '');
    const t = Date.now() / 1000 - 60;
    utimesSync(lock, t, t);
    const readOnly = 'mount --bind "$R" "$R"; mount -o remount,bind,ro "$R"';
    try {
      await h.exec(['ip', 'link', 'del', SHIM], { check: true });
      const before = await hostFingerprint(h);
      const r = await inMountNamespace(readOnly, ['apply', ...RECIPE, '--yes'], root);
      // The --root check (src/system/root-dir.ts) answers before the lock is tried: a usage error
      // naming the read-only directory at once, not LOCKED after the wait; the empty lock is left as it was.
      expect(r.code, r.stderr).toBe(2);
      expect(r.json!.error!.code).toBe('USAGE');
      expect(r.json!.error!.message).toContain(`--root ${root}: ${join(root, 'run', 'macvlanctl')} is on a read-only filesystem`);
      expect(r.ms).toBeLessThan(3000);
      expect(readFileSync(lock, 'utf8')).toBe('');
      expect(await hostFingerprint(h)).toBe(before);
      // up reads the record only: a read-only root does not stop it
      const up = await inMountNamespace(readOnly, ['up', 'mynet'], root);
      expect(up.code, up.stderr).toBe(0);
      expect(await shimProblems(h)).toBe('');
    } finally {
      rmSync(join(root, 'run'), { recursive: true, force: true });
    }
  });

  it('an empty lock with no holder (a full disk left it) is taken over: apply repairs the host', async () => {
    mkdirSync(join(root, 'run', 'macvlanctl'), { recursive: true });
    const lock = join(root, 'run', 'macvlanctl', 'apply.lock');
    writeFileSync(lock, '');
    const t = Date.now() / 1000 - 60;
    utimesSync(lock, t, t);
    await h.exec(['ip', 'link', 'set', SHIM, 'down'], { check: true });
    const r = await macvlanctl(h, ['apply', ...RECIPE, '--yes', '--json', '--lock-wait', '0'], { root });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json!.result.changed).toBe(true);
    expect(await shimProblems(h)).toBe('');
  });

  it('teardown: destroy leaves no lock behind', async () => {
    const d = await macvlanctl(h, ['destroy', 'mynet', '--yes'], { root });
    expect(d.code, d.stderr).toBe(0);
    const { readdirSync, existsSync } = await import('node:fs');
    expect(existsSync(process.env.MACVLANCTL_LOCK_DIR!)).toBe(false);
    expect(readdirSync(join(root, 'run'))).toEqual([]);
  });
});
