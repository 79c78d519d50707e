/**
 * `mkdir -p` with bounded work. Node's own `mkdirSync(dir, { recursive: true })`
 * loops forever at 100% CPU on a filesystem that answers ENOENT to mkdir in a
 * directory that exists (procfs: `--root /proc/self`). Here every missing
 * component is created once, from the top down, and a refusal is an error.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** Missing directories from `dir` upwards, outermost first; at most one per path component. */
function missingFromTop(dir: string): string[] {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    try {
      if (statSync(d).isDirectory()) break;
      throw Object.assign(new Error(`${d} exists and is not a directory`), { code: 'ENOTDIR' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  return missing;
}

/**
 * How many times the missing directories are looked for again when one of
 * them vanished under us (see makeDirs). More would mean a loop with another
 * process; fewer, a failed lock in a race of two applies.
 */
const VANISHED_RETRIES = 3;

/** Creates `dir` and its missing parents with `mode`; returns the directories it created, outermost first. */
export function makeDirs(dir: string, mode = 0o755): string[] {
  const created: string[] = [];
  for (let attempt = 0; ; attempt++) {
    let vanished = false;
    for (const d of missingFromTop(dir)) {
      try {
        mkdirSync(d, { mode });
        created.push(d);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // Another process made it meanwhile: fine.
        if (code === 'EEXIST' && statSync(d).isDirectory()) continue;
        // Another process removed its parent meanwhile (a macvlanctl releasing
        // the lock removes run/macvlanctl, and run/ when it made it): look
        // again. On procfs the parent is there and mkdir still says ENOENT:
        // that, like EROFS or EACCES, is final.
        if (code === 'ENOENT' && attempt < VANISHED_RETRIES && !existsSync(dirname(d))) {
          vanished = true;
          break;
        }
        throw e;
      }
    }
    if (!vanished) return created;
  }
}
