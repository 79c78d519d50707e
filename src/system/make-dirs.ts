/**
 * `mkdir -p` with bounded work. Node's own `mkdirSync(dir, { recursive: true })`
 * loops forever at 100% CPU on a filesystem that answers ENOENT to mkdir in a
 * directory that exists (procfs: `--root /proc/self`). Here every missing
 * component is created once, from the top down, and a refusal is an error.
 */
import { mkdirSync, statSync } from 'node:fs';
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

/** Creates `dir` and its missing parents with `mode`; returns the directories it created, outermost first. */
export function makeDirs(dir: string, mode = 0o755): string[] {
  const created: string[] = [];
  for (const d of missingFromTop(dir)) {
    try {
      mkdirSync(d, { mode });
      created.push(d);
    } catch (e) {
      // Another process made it meanwhile: fine. Anything else (ENOENT on procfs, EROFS, EACCES) is final.
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(d).isDirectory()) continue;
      throw e;
    }
  }
  return created;
}
