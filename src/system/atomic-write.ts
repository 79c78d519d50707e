/**
 * Atomic file writes: a temporary file in the same directory, fsync, then
 * rename over the target, with an explicit mode. Readers never see half a file.
 *
 * The temporary file is named `.NAME.macvlanctl-PID.tmp`, so that one left by
 * a process killed mid-write (SIGKILL, power loss) is recognisably ours and
 * whose: the next write of NAME, and its removal, delete such leftovers of
 * processes that are gone.
 */
import { closeSync, fchmodSync, fchownSync, fsyncSync, openSync, readFileSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { makeDirs } from './make-dirs.js';

const TEMP_MARK = 'macvlanctl';

function tempName(path: string, pid: number): string {
  return `.${basename(path)}.${TEMP_MARK}-${pid}.tmp`;
}

/** The pid in one of our temporary names for `file` (also the older `.NAME.PID.tmp`), or undefined. */
export function tempOwner(file: string, entry: string): number | undefined {
  const prefix = `.${file}.`;
  if (!entry.startsWith(prefix) || !entry.endsWith('.tmp')) return undefined;
  const m = /^(?:macvlanctl-)?(\d+)$/.exec(entry.slice(prefix.length, -'.tmp'.length));
  return m ? Number(m[1]) : undefined;
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary files of `path` left by writers that are gone; returns their names. */
export function removeStaleTemps(path: string): string[] {
  const dir = dirname(path);
  const file = basename(path);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const stale = entries.filter((e) => {
    const pid = tempOwner(file, e);
    return pid !== undefined && !alive(pid);
  });
  for (const e of stale) rmSync(join(dir, e), { force: true });
  return stale;
}

/** Who a rewritten file keeps as its owner and group (see rewriteFileAtomic). */
interface Keep {
  uid: number;
  gid: number;
}

export function writeFileAtomic(path: string, content: string, mode: number, keep?: Keep): void {
  const dir = dirname(path);
  makeDirs(dir, 0o755);
  removeStaleTemps(path);
  const tmp = join(dir, tempName(path, process.pid));
  const fd = openSync(tmp, 'w', mode);
  try {
    if (keep) keepOwnerAndMode(fd, mode, keep);
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

/**
 * The exact bits (the umask narrowed open's: a 0664 file must not come back
 * 0644) and the owner and group of the file replaced. Only root may give a
 * file away; a user rewriting a file of a group it is not in gets its own
 * group, as any editor would.
 */
function keepOwnerAndMode(fd: number, mode: number, keep: Keep): void {
  try {
    fchownSync(fd, keep.uid, keep.gid);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
  }
  fchmodSync(fd, mode); // after the chown, which clears set-user/group-ID bits
}

/**
 * A user's own file (the Compose file of --write-compose) rewritten in place:
 * through a symlink, the file it points to (the link stays a link), with the
 * permission bits, owner and group it had. Replaced by a plain atomic write,
 * `sudo macvlanctl apply --write-compose` handed the user's file to root, a
 * 0664 file lost its group write bit to the umask, and a symlink became a
 * regular file while its target kept the old text.
 */
export function rewriteFileAtomic(path: string, content: string): void {
  const target = realpathSync(path);
  const st = statSync(target);
  writeFileAtomic(target, content, st.mode & 0o7777, { uid: st.uid, gid: st.gid });
}
