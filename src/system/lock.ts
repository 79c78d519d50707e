/**
 * An exclusive lock for apply and destroy: a file created with O_EXCL that
 * records who holds it. A lock left by a process that no longer exists is
 * taken over. The second caller waits a little, then says who holds it.
 */
import { closeSync, existsSync, openSync, readFileSync, rmSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MacvlanError } from '../model/errors.js';
import { makeDirs } from './make-dirs.js';

export interface LockHolder {
  pid: number;
  command: string;
  since: string;
}

export function lockPath(root: string): string {
  return join(root, 'run', 'macvlanctl', 'apply.lock');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

function tryTake(path: string, command: string): boolean {
  // Another process may just have removed the (empty) directory on release.
  // Outside the try: a directory that cannot be made is an error, not a reason to try again.
  makeDirs(dirname(path), 0o755);
  try {
    const fd = openSync(path, 'wx', 0o644);
    const holder: LockHolder = { pid: process.pid, command, since: new Date().toISOString() };
    writeSync(fd, JSON.stringify(holder));
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false; // the directory went away under us: try again
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const holder = readHolder(path);
    if (holder && !alive(holder.pid)) {
      rmSync(path, { force: true }); // stale: its process is gone
      return tryTake(path, command);
    }
    return false;
  }
}

export interface Lock {
  release(): void;
}

export async function acquireLock(root: string, command: string, waitMs = 5000): Promise<Lock> {
  const path = lockPath(root);
  const dir = dirname(path);
  // Under a --root without a run/ directory the lock creates that too; release removes what it made.
  const runCreated = !existsSync(dirname(dir));
  const deadline = Date.now() + waitMs;
  for (;;) {
    let taken: boolean;
    try {
      taken = tryTake(path, command);
    } catch (e) {
      throw new MacvlanError('NOT_PERMITTED', `cannot create the lock ${path}: ${(e as Error).message}`);
    }
    if (taken) break;
    if (Date.now() >= deadline) {
      const h = readHolder(path);
      throw new MacvlanError(
        'LOCKED',
        `another macvlanctl is changing this host${h ? ` (pid ${h.pid}, ${h.command}, since ${h.since})` : ''}; wait for it to finish and try again. Lock: ${path}`,
        { lock: path, ...(h ? { holder: h } : {}) },
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      // Ours since tryTake made it exclusively: only a stale lock (its process gone) is ever taken over.
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
      // Leave no trace: the directory goes too when nobody else uses it
      // (rmdir refuses a directory that is not empty).
      try {
        rmdirSync(dir);
        if (runCreated) rmdirSync(dirname(dir));
      } catch {
        // another lock holder, or not ours to remove
      }
    },
  };
}
