/**
 * Atomic file writes: a temporary file in the same directory, fsync, then
 * rename over the target, with an explicit mode. Readers never see half a file.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function writeFileAtomic(path: string, content: string, mode: number): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
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

/** A text file as it is (for an edit that writes it back with writeFileAtomic). */
export function readTextFile(path: string): string {
  return readFileSync(path, 'utf8');
}

/** A file's permission bits, so that rewriting it keeps them. */
export function fileMode(path: string): number {
  return statSync(path).mode & 0o7777;
}
