/**
 * Atomic file writes: a temporary file in the same directory, fsync, then
 * rename over the target, with an explicit mode. Readers never see half a file.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { makeDirs } from './make-dirs.js';

export function writeFileAtomic(path: string, content: string, mode: number): void {
  const dir = dirname(path);
  makeDirs(dir, 0o755);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}
