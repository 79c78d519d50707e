/**
 * The host lock and the root lock (src/system/lock.ts) on real files and real
 * processes: what release leaves, who waits, which locks are taken over (holder
 * gone, pid reused, earlier boot, empty or corrupt file) and which never are.
 * Mounts (a full or read-only root) need root: test/e2e/lock.e2e.test.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MacvlanError } from '../../src/model/errors.js';
import {
  CORRUPT_LOCK_GRACE_MS,
  LOCK_DIR_ENV,
  type ProcessProbe,
  hostLockPath,
  judgeLock,
  lockHost,
  removeStale,
  rootLockPath,
  startTimeOf,
} from '../../src/system/lock.js';

let work: string;
let root: string;
let lockDir: string;
const children: ChildProcess[] = [];

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'mvl-lock-'));
  root = join(work, 'root');
  lockDir = join(work, 'run-macvlanctl');
  mkdirSync(root);
  process.env[LOCK_DIR_ENV] = lockDir;
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  delete process.env[LOCK_DIR_ENV];
  rmSync(work, { recursive: true, force: true });
});

const procStart = (pid: number) => startTimeOf(readFileSync(`/proc/${pid}/stat`, 'utf8'))!;
const bootId = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

/** A live process that is not a macvlanctl (stands for the holder, or for whoever got its pid). */
function sleeper(): ChildProcess {
  const c = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(c);
  return c;
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const c = spawn('true', { stdio: 'ignore' });
  await new Promise((r) => c.on('exit', r));
  return c.pid!;
}

function placeLock(path: string, content: string, ageMs = 0): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  if (ageMs) {
    const t = (Date.now() - ageMs) / 1000;
    utimesSync(path, t, t);
  }
}

async function refusal(p: Promise<unknown>): Promise<MacvlanError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(MacvlanError);
  return e as MacvlanError;
}

describe('where the locks are', () => {
  it('the host lock is named by the network namespace, in the lock directory; the root lock under --root', () => {
    expect(hostLockPath()).toMatch(new RegExp(`^${lockDir}/net-\\d+-\\d+\\.lock$`));
    expect(rootLockPath('/srv/r')).toBe('/srv/r/run/macvlanctl/apply.lock');
  });

  it('under a root without run/, release removes run/macvlanctl and run/ again, and the host lock', async () => {
    const lock = await lockHost('apply test', { root, waitMs: 0 });
    expect(existsSync(rootLockPath(root))).toBe(true);
    expect(existsSync(hostLockPath())).toBe(true);
    lock.release();
    expect(readdirSync(root)).toEqual([]);
    expect(existsSync(lockDir)).toBe(false);
  });

  it('a run/ that was there stays', async () => {
    mkdirSync(join(root, 'run'));
    const lock = await lockHost('apply test', { root, waitMs: 0 });
    lock.release();
    expect(readdirSync(root)).toEqual(['run']);
    expect(readdirSync(join(root, 'run'))).toEqual([]);
  });

  it('the record says who holds it: pid, its start time, the boot', async () => {
    const lock = await lockHost('up mynet');
    const h = JSON.parse(readFileSync(hostLockPath(), 'utf8'));
    expect(h).toMatchObject({ pid: process.pid, command: 'up mynet', start: procStart(process.pid), boot: bootId() });
    lock.release();
  });

  it('is per host, not per root: two roots meet at the host lock', async () => {
    const other = join(work, 'other-root');
    mkdirSync(other);
    const a = await lockHost('apply a', { root, waitMs: 0 });
    const e = await refusal(lockHost('apply b', { root: other, waitMs: 200 }));
    expect(e.code).toBe('LOCKED');
    expect(e.message).toMatch(/another macvlanctl is changing this host \(pid \d+, apply a, since /);
    // up (host lock only) waits for apply too
    expect((await refusal(lockHost('up x', { waitMs: 0 }))).code).toBe('LOCKED');
    a.release();
    (await lockHost('apply b', { root: other, waitMs: 0 })).release();
    // and a failed second lock leaves nothing of its own: the other root's run/ is gone again
    expect(readdirSync(other)).toEqual([]);
  });
});

describe('a lock that cannot be written fails at once, with errno and path', () => {
  it('a --root that is a file', async () => {
    const file = join(work, 'plain-file');
    writeFileSync(file, '');
    const t0 = Date.now();
    const e = await refusal(lockHost('apply', { root: file, waitMs: 5000 }));
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(e.code).toBe('SYSTEM_ERROR');
    expect(e.message).toMatch(new RegExp(`^cannot create the lock directory ${file}/run/macvlanctl: not a directory \\(ENOTDIR\\)$`));
    expect(e.details).toEqual({ path: `${file}/run/macvlanctl`, errno: 'ENOTDIR' });
  });

  it('--root /proc/self: an error, not an endless mkdir loop (Node\'s recursive mkdir spins there)', async () => {
    const t0 = Date.now();
    const e = await refusal(lockHost('apply', { root: '/proc/self', waitMs: 5000 }));
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(e.message).toMatch(/^cannot create the lock directory \/proc\/self\/run: .* \(E[A-Z]+\)$/);
  });
});

describe('a held lock', () => {
  it('makes the next one wait, then name the holder', async () => {
    const holder = sleeper();
    placeLock(hostLockPath(), JSON.stringify({ pid: holder.pid, command: 'apply other', since: 'then', start: procStart(holder.pid!), boot: bootId() }));
    const t0 = Date.now();
    const e = await refusal(lockHost('up mynet', { waitMs: 300 }));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(e.code).toBe('LOCKED');
    expect(e.message).toContain(`(pid ${holder.pid}, apply other, since then)`);
    expect(e.details).toMatchObject({ lock: hostLockPath(), holder: { pid: holder.pid } });
  });

  it('is taken as soon as its holder releases it', async () => {
    const first = await lockHost('apply a', { root });
    const second = lockHost('apply b', { root, waitMs: 3000 });
    let released = false;
    setTimeout(() => {
      released = true;
      first.release();
    }, 150);
    const taken = await second;
    // Taken at all is not enough: a lock that let both in would pass that too.
    expect(released).toBe(true);
    taken.release();
  });

  it('an older record without start time (earlier version) is held while its pid lives', async () => {
    const holder = sleeper();
    placeLock(rootLockPath(root), JSON.stringify({ pid: holder.pid, command: 'apply old', since: 'then' }));
    expect((await refusal(lockHost('apply', { root, waitMs: 0 }))).message).toMatch(/changing the files under .* \(pid \d+, apply old/);
  });
});

describe('a lock whose holder is gone is taken over at once', () => {
  it('its pid no longer exists', async () => {
    placeLock(hostLockPath(), JSON.stringify({ pid: await deadPid(), command: 'apply', since: 'then' }));
    (await lockHost('up', { waitMs: 0 })).release();
  });

  it('its pid now belongs to an unrelated process (another start time)', async () => {
    const unrelated = sleeper();
    placeLock(hostLockPath(), JSON.stringify({ pid: unrelated.pid, command: 'apply', since: 'then', start: String(Number(procStart(unrelated.pid!)) - 100), boot: bootId() }));
    const lock = await lockHost('up', { waitMs: 0 });
    expect(JSON.parse(readFileSync(hostLockPath(), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('it was taken before the last reboot (a --root on disk keeps it)', async () => {
    const alive = sleeper();
    placeLock(rootLockPath(root), JSON.stringify({ pid: alive.pid, command: 'apply', since: 'then', start: procStart(alive.pid!), boot: '00000000-0000-0000-0000-000000000000' }));
    (await lockHost('apply', { root, waitMs: 0 })).release();
  });

  it('an empty lock (a full disk, or a crash between create and write) once past the grace period', async () => {
    placeLock(rootLockPath(root), '', CORRUPT_LOCK_GRACE_MS + 500);
    (await lockHost('apply', { root, waitMs: 0 })).release();
    // run/ was there (the test made it); nothing is left in it, no takeover marker either
    expect(readdirSync(join(root, 'run'))).toEqual([]);
  });

  it('a corrupt lock likewise; a fresh one is waited for, then taken once it is old enough', async () => {
    placeLock(rootLockPath(root), '{"pid":', CORRUPT_LOCK_GRACE_MS + 500);
    (await lockHost('apply', { root, waitMs: 0 })).release();
    placeLock(rootLockPath(root), '');
    const e = await refusal(lockHost('apply', { root, waitMs: 0 }));
    expect(e.code).toBe('LOCKED');
    expect(e.message).toMatch(/being written/);
    const t0 = Date.now();
    (await lockHost('apply', { root, waitMs: 3 * CORRUPT_LOCK_GRACE_MS })).release();
    expect(Date.now() - t0).toBeLessThan(2 * CORRUPT_LOCK_GRACE_MS);
  });
});

describe('judgeLock (pure)', () => {
  const self = { pid: 100, start: '5000', boot: 'b1', pidns: '4026531836' };
  const probe = (procs: Record<number, string>): ProcessProbe => ({ self, exists: (p) => p in procs, startOf: (p) => procs[p] });
  const rec = (o: object) => JSON.stringify({ command: 'apply x', since: 's', ...o });

  it('held while the pid lives with the start time recorded', () => {
    expect(judgeLock(rec({ pid: 7, start: '42', boot: 'b1' }), 10_000, probe({ 7: '42' }))).toMatchObject({ stale: false, holder: { pid: 7 } });
  });
  it('stale when the pid is gone, reused, or from another boot', () => {
    expect(judgeLock(rec({ pid: 7, start: '42' }), 0, probe({}))).toMatchObject({ stale: true, why: 'pid 7 is gone' });
    expect(judgeLock(rec({ pid: 7, start: '42' }), 0, probe({ 7: '43' }))).toMatchObject({ stale: true, why: 'pid 7 is now another process' });
    expect(judgeLock(rec({ pid: 7, start: '42', boot: 'b0' }), 0, probe({ 7: '42' }))).toMatchObject({ stale: true });
  });
  it('a holder in another pid namespace is never judged gone from here', () => {
    expect(judgeLock(rec({ pid: 7, start: '42', pidns: '1' }), 0, probe({}))).toMatchObject({ stale: false });
  });
  it('empty or corrupt: waited for during the grace period, stale after it', () => {
    for (const text of ['', '{"pid":', '{"pid":-1}', 'null', '[]']) {
      expect(judgeLock(text, CORRUPT_LOCK_GRACE_MS - 1, probe({})).stale, text).toBe(false);
      expect(judgeLock(text, CORRUPT_LOCK_GRACE_MS + 1, probe({})).stale, text).toBe(true);
    }
  });
  it('reads the start time after the command name, which may hold spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3)); // fields 3.. (field 22 is "22")
    fields[0] = 'S';
    expect(startTimeOf(`123 (a) b (c) ${fields.join(' ')}`)).toBe('22');
  });
});

describe('taking over a stale lock is exclusive', () => {
  it('a taker that judged a file stale never removes the lock that replaced it meanwhile', () => {
    const path = rootLockPath(root);
    placeLock(path, '', CORRUPT_LOCK_GRACE_MS + 500);
    const judged = statSync(path, { bigint: true });
    // meanwhile another taker removed it and holds a fresh lock
    unlinkSync(path);
    placeLock(path, JSON.stringify({ pid: process.pid, command: 'apply other', since: 'now' }));
    expect(removeStale(path, judged)).toBe(true);
    expect(readFileSync(path, 'utf8')).toContain('apply other');
    expect(readdirSync(join(path, '..'))).toEqual(['apply.lock']);
  });

  it('while another taker is removing a stale file, the second leaves it to it', () => {
    const path = rootLockPath(root);
    placeLock(path, '', CORRUPT_LOCK_GRACE_MS + 500);
    const judged = statSync(path, { bigint: true });
    const marker = `${path}.${judged.ino}-${judged.mtimeNs}.takeover`;
    writeFileSync(marker, '');
    expect(removeStale(path, judged)).toBe(false);
    expect(existsSync(path)).toBe(true);
    // a marker left by a taker that died is cleared after the grace period, and the next try succeeds
    const t = (Date.now() - 2 * CORRUPT_LOCK_GRACE_MS) / 1000;
    utimesSync(marker, t, t);
    expect(removeStale(path, judged)).toBe(false);
    expect(removeStale(path, judged)).toBe(true);
    expect(readdirSync(join(path, '..'))).toEqual([]);
  });
  it('a stale lock whose directory went away meanwhile (taken over and released) means: look again', () => {
    const path = rootLockPath(root);
    placeLock(path, '', CORRUPT_LOCK_GRACE_MS + 500);
    const judged = statSync(path, { bigint: true });
    rmSync(join(path, '..'), { recursive: true });
    expect(removeStale(path, judged)).toBe(true);
  });
});

describe('racing takers (separate processes)', () => {
  it('of a stale lock: exactly one holds it at any time', async () => {
    // The lock module, bundled for plain node children.
    const lib = join(work, 'lock.mjs');
    buildSync({ entryPoints: [join(import.meta.dirname, '..', '..', 'src', 'system', 'lock.ts')], bundle: true, platform: 'node', format: 'esm', outfile: lib, logLevel: 'silent' });
    const go = join(work, 'go');
    const trace = join(work, 'trace');
    const script = `
      import { appendFileSync, existsSync } from 'node:fs';
      const { lockHost } = await import(${JSON.stringify(lib)});
      while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 1));
      const lock = await lockHost('race', { root: ${JSON.stringify(root)}, waitMs: 20000 });
      appendFileSync(${JSON.stringify(trace)}, 'in\\n');
      const until = Date.now() + 20; while (Date.now() < until);
      appendFileSync(${JSON.stringify(trace)}, 'out\\n');
      lock.release();`;
    for (let round = 0; round < 3; round++) {
      rmSync(go, { force: true });
      rmSync(trace, { force: true });
      // both locks stale: left by a process that is gone
      const dead = await deadPid();
      placeLock(rootLockPath(root), JSON.stringify({ pid: dead, command: 'apply', since: 'then' }));
      placeLock(hostLockPath(), JSON.stringify({ pid: dead, command: 'apply', since: 'then' }));
      const runs = Array.from({ length: 6 }, () => {
        const c = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env } });
        children.push(c);
        let err = '';
        c.stderr!.on('data', (d) => (err += d));
        return new Promise<{ code: number | null; err: string }>((r) => c.on('exit', (code) => r({ code, err })));
      });
      await new Promise((r) => setTimeout(r, 400)); // let them all start and wait for the signal
      writeFileSync(go, '');
      for (const r of await Promise.all(runs)) expect(r.code, r.err).toBe(0);
      expect(readFileSync(trace, 'utf8')).toBe('in\nout\n'.repeat(6));
      // nothing left behind: no lock, no takeover marker (run/ was made by placeLock)
      expect(readdirSync(join(root, 'run'))).toEqual([]);
      expect(existsSync(lockDir)).toBe(false);
    }
  }, 30_000);
});
