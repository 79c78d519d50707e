/**
 * The lock every command that changes the host takes (apply, destroy, up,
 * down), so that two of them never interleave their reads and writes.
 *
 * What is locked, and why two locks:
 * - The host lock guards the kernel side (links, addresses, routes) and the
 *   Docker engine of this host. Its key is the network namespace, not --root:
 *   --root only relocates files, the kernel is one. Two runs with different
 *   roots on one host still race on the same shim, and several lab hosts
 *   (namespaces on one machine) must not serialise each other. The namespace's
 *   identity is the (device, inode) pair of /proc/self/ns/net, stable for its
 *   life; the lock file lives in /run/macvlanctl (tmpfs, gone at reboot, root
 *   only), not under --root, so every root on this host meets the same lock.
 * - The root lock (<root>/run/macvlanctl/apply.lock) guards the files under
 *   --root that apply and destroy read, plan from and write (the record,
 *   persistence files): two hosts sharing one root must not interleave those.
 *   up and down only read the record, so they take the host lock alone and
 *   work with a read-only root (at boot).
 * Locks are always taken in that order (root, then host), so two runs never
 * wait for each other in a cycle.
 *
 * How a lock is held: a file holding who made it — pid, the process's start
 * time (/proc/PID/stat) and the boot id — written aside and linked into place
 * (link(2) fails when a lock is there), so it never appears half-written.
 * Node has no flock(2), and a `flock` child process costs milliseconds at
 * every start. A lock whose holder is gone (no such pid, or the pid now
 * belongs to another process, or it is from an earlier boot) is taken over.
 * An empty or corrupt file (left by an earlier version that a full disk
 * stopped between create and write, or a root on disk that crashed before the
 * data reached it) is taken over after a grace period.
 * Taking over is itself exclusive (see removeStale), so two waiters that
 * both see the same stale file never both end up holding the lock.
 *
 * A lock that cannot be created because of the file system (read-only, full,
 * no permission) is reported at once as what it is, with errno and path:
 * waiting would not help.
 */
import { type BigIntStats, closeSync, fstatSync, linkSync, openSync, readFileSync, readSync, rmdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MacvlanError } from '../model/errors.js';
import { makeDirs } from './make-dirs.js';

/** Overrides /run/macvlanctl for the host lock. For tests only, so that they leave nothing in the real /run. */
export const LOCK_DIR_ENV = 'MACVLANCTL_LOCK_DIR';
const HOST_LOCK_DIR = '/run/macvlanctl';

/** An empty or unreadable lock younger than this may be one being written right now. */
export const CORRUPT_LOCK_GRACE_MS = 1000;
const POLL_MS = 100;

export interface LockHolder {
  pid: number;
  command: string;
  since: string;
  /** Field 22 of /proc/PID/stat (clock ticks after boot): tells a reused pid apart. */
  start?: string;
  /** /proc/sys/kernel/random/boot_id: a lock from an earlier boot is stale (a --root on disk outlives a reboot). */
  boot?: string;
  /** The holder's pid namespace (inode): a pid from another one cannot be looked up here. */
  pidns?: string;
}

export interface Lock {
  release(): void;
}

export function rootLockPath(root: string): string {
  return join(root, 'run', 'macvlanctl', 'apply.lock');
}

export function hostLockPath(): string {
  let ns;
  try {
    ns = statSync('/proc/self/ns/net');
  } catch (e) {
    throw fsError(e, "identify this host's network namespace by", '/proc/self/ns/net');
  }
  return join(process.env[LOCK_DIR_ENV] || HOST_LOCK_DIR, `net-${ns.dev}-${ns.ino}.lock`);
}

/**
 * Takes the locks for a command that changes this host: the root lock when it
 * writes files under `root`, then the host lock. Waits up to `waitMs` in all
 * for holders that are alive, then fails with LOCKED naming the holder.
 */
export async function lockHost(command: string, opts: { root?: string; waitMs?: number } = {}): Promise<Lock> {
  const deadline = Date.now() + (opts.waitMs ?? 5000);
  const held: Lock[] = [];
  try {
    if (opts.root !== undefined) held.push(await acquireAt(rootLockPath(opts.root), command, deadline, { runParent: true, scope: `the files under ${opts.root}` }));
    held.push(await acquireAt(hostLockPath(), command, deadline, { runParent: false, scope: 'this host' }));
  } catch (e) {
    for (const l of held.reverse()) l.release();
    throw e;
  }
  return {
    release() {
      for (const l of [...held].reverse()) l.release();
    },
  };
}

// ---------------------------------------------------------------------------
// Who we are, as a holder record says it (read once: a few small /proc reads).

export interface Self {
  pid: number;
  start: string | undefined;
  boot: string | undefined;
  pidns: string | undefined;
}

let self: Self | undefined;

function quietly<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** Field 22 (starttime) of /proc/PID/stat; the command name (field 2) may hold spaces and parentheses, so count after the last ')'. */
export function startTimeOf(stat: string): string | undefined {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field 22 is rest[19]
  const v = rest[19];
  return v && /^\d+$/.test(v) ? v : undefined;
}

function processStart(pid: number | 'self'): string | undefined {
  return quietly(() => startTimeOf(readFileSync(`/proc/${pid}/stat`, 'utf8')));
}

function whoAmI(): Self {
  self ??= {
    pid: process.pid,
    start: processStart('self'),
    boot: quietly(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()),
    pidns: quietly(() => String(statSync('/proc/self/ns/pid').ino)),
  };
  return self;
}

// ---------------------------------------------------------------------------
// Judging a lock file that is already there.

export function parseHolder(text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (!h || typeof h !== 'object' || !Number.isInteger(h.pid) || (h.pid as number) <= 0) return undefined;
    return { command: '?', since: '?', ...h } as LockHolder;
  } catch {
    return undefined;
  }
}

/** What the system says about a holder's process; the I/O half of judging a lock, apart so that the judgement is pure. */
export interface ProcessProbe {
  self: Self;
  /** Whether a process with this pid exists (kill(pid, 0)). */
  exists(pid: number): boolean;
  /** Its start time, or undefined when it is gone. */
  startOf(pid: number): string | undefined;
}

export type Verdict = { stale: false; holder?: LockHolder; why: string } | { stale: true; why: string };

/** Whether a lock file with this content and age may be taken over. Pure given the probe. */
export function judgeLock(text: string, ageMs: number, probe: ProcessProbe): Verdict {
  const h = parseHolder(text);
  if (!h) {
    if (ageMs < CORRUPT_LOCK_GRACE_MS) return { stale: false, why: 'its lock file is being written' };
    return { stale: true, why: `the lock file is ${text.length === 0 ? 'empty' : 'unreadable'} (its creator died or its disk was full while writing it)` };
  }
  const me = probe.self;
  if (h.boot && me.boot && h.boot !== me.boot) return { stale: true, why: `pid ${h.pid} held it before the last reboot` };
  // A pid of another pid namespace means nothing here: assume it alive rather than take a live lock.
  if (h.pidns && me.pidns && h.pidns !== me.pidns) return { stale: false, holder: h, why: 'held from another pid namespace' };
  if (!probe.exists(h.pid)) return { stale: true, why: `pid ${h.pid} is gone` };
  if (h.start !== undefined) {
    const now = probe.startOf(h.pid);
    if (now !== h.start) return { stale: true, why: now === undefined ? `pid ${h.pid} is gone` : `pid ${h.pid} is now another process` };
  }
  return { stale: false, holder: h, why: 'held' };
}

const realProbe = (): ProcessProbe => ({
  self: whoAmI(),
  exists(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  },
  startOf: (pid) => processStart(pid),
});

// ---------------------------------------------------------------------------
// Taking one lock.

function fsError(e: unknown, action: string, path: string): MacvlanError {
  const err = e as NodeJS.ErrnoException;
  const errno = err.code ?? 'EIO';
  // The file system refuses us: that is a permission matter (read-only, not ours); anything else (full disk, I/O) is the system's.
  const code = errno === 'EROFS' || errno === 'EACCES' || errno === 'EPERM' ? 'NOT_PERMITTED' : 'SYSTEM_ERROR';
  // Node's "ENOSPC: no space left on device, write" → "no space left on device": the errno and path are added below.
  const reason = (err.message ?? String(e)).replace(/^[A-Z]+: /, '').replace(/, \w+( '.*')?$/, '');
  return new MacvlanError(code, `cannot ${action} ${path}: ${reason} (${errno})`, { path, errno });
}

/**
 * mkdir -p of the lock's directory (src/system/make-dirs.ts): bounded where
 * Node's recursive mkdir loops forever (mkdir answers ENOENT under a parent
 * that exists, under /proc), and it makes a parent again that another run's
 * release removed between the look and the mkdir (run/macvlanctl, and run/
 * when that run made it). It stats first, so no exception (costly in Node)
 * when the directory is there.
 */
function ensureDir(path: string): void {
  try {
    makeDirs(path, 0o755);
  } catch (e) {
    // Name the directory that could not be made (/proc/self/run), not the one asked for.
    throw fsError(e, 'create the lock directory', (e as NodeJS.ErrnoException).path ?? path);
  }
}

type Attempt = { taken: true; ino: number } | { taken: false };

/**
 * Writes the holder record to a file of our own, then links it in place:
 * link(2) fails with EEXIST when a lock is there, and the lock appears whole
 * or not at all. (With O_EXCL and a write after it, a holder stalled between
 * the two would leave an empty file that a waiter takes over after the grace
 * period, while the stalled holder goes on believing it holds the lock.)
 */
function createLockFile(path: string, command: string): Attempt {
  const me = whoAmI();
  const holder: LockHolder = {
    pid: me.pid,
    command,
    since: new Date().toISOString(),
    ...(me.start ? { start: me.start } : {}),
    ...(me.boot ? { boot: me.boot } : {}),
    ...(me.pidns ? { pidns: me.pidns } : {}),
  };
  const tmp = `${path}.${me.pid}.tmp`;
  let ino: number;
  const fd = openSync(tmp, 'w', 0o644); // its errors (ENOENT: the directory went away; EROFS …) go to the caller
  try {
    writeSync(fd, JSON.stringify(holder));
    ino = fstatSync(fd).ino;
    closeSync(fd);
  } catch (e) {
    // A full disk gives the inode but not the bytes: leave nothing behind.
    quietly(() => closeSync(fd));
    quietly(() => unlinkSync(tmp));
    throw fsError(e, 'write the lock', path);
  }
  try {
    linkSync(tmp, path);
    return { taken: true, ino };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { taken: false };
    throw e;
  } finally {
    quietly(() => unlinkSync(tmp));
  }
}

interface Existing {
  text: string;
  stat: BigIntStats;
}

function readExisting(path: string): Existing | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // released meanwhile
    throw fsError(e, 'read the lock', path);
  }
  try {
    // fstat and read through one fd: the verdict is about exactly this file.
    const stat = fstatSync(fd, { bigint: true });
    const buf = Buffer.alloc(Math.min(Number(stat.size), 4096));
    const n = buf.length ? readSync(fd, buf, 0, buf.length, 0) : 0;
    return { text: buf.subarray(0, n).toString('utf8'), stat };
  } finally {
    closeSync(fd);
  }
}

const sameFile = (a: BigIntStats, b: BigIntStats) => a.dev === b.dev && a.ino === b.ino && a.mtimeNs === b.mtimeNs;

/**
 * Removes the stale lock file `seen`, unless it was replaced meanwhile.
 * Exclusive per stale file: only the waiter that creates the marker named
 * after that file's identity may unlink it, and it checks that the path still
 * is that file first. Nobody else removes that file (its holder is gone), so
 * the check and the unlink cannot be split by another taker; a waiter that
 * comes later finds another file there and leaves it. Returns false while
 * another waiter is doing it.
 */
export function removeStale(path: string, seen: BigIntStats): boolean {
  const marker = `${path}.${seen.ino}-${seen.mtimeNs}.takeover`;
  let fd: number;
  try {
    fd = openSync(marker, 'wx', 0o600);
  } catch (e) {
    // The directory is gone: the stale lock went with it (taken over and released meanwhile); look again.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError(e, 'take over the stale lock', path);
    // Another waiter is removing it. A marker older than the grace period was left by one that died doing so.
    const m = quietly(() => statSync(marker));
    if (m && Date.now() - m.mtimeMs > CORRUPT_LOCK_GRACE_MS) quietly(() => unlinkSync(marker));
    return false;
  }
  closeSync(fd);
  try {
    const now = quietly(() => statSync(path, { bigint: true }));
    if (now && sameFile(now, seen)) unlinkSync(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw fsError(e, 'remove the stale lock', path);
  } finally {
    quietly(() => unlinkSync(marker));
  }
}

interface Where {
  /** For a root lock: create <root>/run too if missing, and remove it again on release. */
  runParent: boolean;
  /** What the lock protects, for the LOCKED message. */
  scope: string;
}

async function acquireAt(path: string, command: string, deadline: number, where: Where): Promise<Lock> {
  const dir = dirname(path);
  const probe = realProbe();
  // Under a --root without a run/ directory the lock makes it; release removes it again.
  const runCreated = where.runParent && !quietly(() => statSync(dirname(dir), { throwIfNoEntry: false }));
  for (let vanished = 0; ; ) {
    ensureDir(dir);
    let attempt: Attempt;
    try {
      attempt = createLockFile(path, command);
    } catch (e) {
      if (e instanceof MacvlanError) throw e;
      // Another holder's release removed the (empty) directory between our mkdir and open: again, a few times.
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && ++vanished < 5) continue;
      throw fsError(e, 'create the lock', path);
    }
    if (attempt.taken) return ownedLock(path, attempt.ino, dir, runCreated);
    const existing = readExisting(path);
    if (!existing) continue; // released between our create and read
    const verdict = judgeLock(existing.text, Date.now() - Number(existing.stat.mtimeMs), probe);
    if (verdict.stale && removeStale(path, existing.stat)) continue;
    if (Date.now() >= deadline) throw lockedError(path, where.scope, verdict);
    await new Promise((r) => setTimeout(r, Math.max(1, Math.min(POLL_MS, deadline - Date.now()))));
  }
}

function lockedError(path: string, scope: string, v: Verdict): MacvlanError {
  const h = !v.stale ? v.holder : undefined;
  const who = h ? ` (pid ${h.pid}, ${h.command}, since ${h.since})` : v.why === 'held' ? '' : ` (${v.why})`;
  return new MacvlanError('LOCKED', `another macvlanctl is changing ${scope}${who}; wait for it to finish and try again. Lock: ${path}`, {
    lock: path,
    ...(h ? { holder: h } : {}),
  });
}

function ownedLock(path: string, ino: number, dir: string, runCreated: boolean): Lock {
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      // Remove it only while it is still ours: had it been judged stale and taken over, it is someone else's now.
      const now = quietly(() => statSync(path));
      if (now?.ino === ino) quietly(() => unlinkSync(path));
      // Leave no trace: the directory goes too when nobody else uses it (rmdir refuses one that is not empty).
      quietly(() => {
        rmdirSync(dir);
        if (runCreated) rmdirSync(dirname(dir));
      });
    },
  };
}
