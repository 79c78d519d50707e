/**
 * The --root of a command that writes (the lock, apply's record, persistence
 * files): it must be a directory on a filesystem that holds files, and the
 * places every writing command writes into (the lock's run/ and the record's
 * var/lib/) must be writable. Not the root itself: on an ostree host (Fedora
 * CoreOS, Silverblue) / is read-only while /run, /var and /etc are not.
 * Checked once, before anything else happens, so that a wrong --root is a
 * usage error (exit 2) and never a half-done apply or a loop.
 */
import { accessSync, constants, statSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { MacvlanError } from '../model/errors.js';
import { rootLockPath } from './lock.js';
import { stateDir } from './state-store.js';

/**
 * Kernel pseudo-filesystems (statfs f_type, from linux/magic.h): their
 * directories may look writable to root, but they do not take new files.
 */
const PSEUDO_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'procfs'],
  [0x62656572, 'sysfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x1cd1, 'devpts'],
  [0xcafe4a11, 'bpf'],
  [0x6165676c, 'pstore'],
  [0x62656570, 'configfs'],
  [0xde5e81e4, 'efivarfs'],
  [0xf97cff8c, 'selinuxfs'],
  [0x42494e4d, 'binfmt_misc'],
  [0x19800202, 'mqueue'],
  [0x6e736673, 'nsfs'],
  [0x65735543, 'fusectl'],
]);

function refuse(root: string, why: string, details: Record<string, unknown> = {}): never {
  throw new MacvlanError('USAGE', `--root ${root}: ${why}; give a writable directory on an ordinary filesystem (the default is /)`, { root, ...details });
}

function pseudoFilesystem(path: string): string | undefined {
  try {
    return PSEUDO_FILESYSTEMS.get(Number(statfsSync(path).type));
  } catch {
    return undefined; // the other checks still apply
  }
}

/** `dir` if it exists, else its nearest existing ancestor (at most one step per path component). */
function nearestExisting(dir: string): string {
  for (let d = dir; ; d = dirname(d)) {
    try {
      statSync(d);
      return d;
    } catch {
      if (dirname(d) === d) return d;
    }
  }
}

/**
 * Throws USAGE (exit 2) unless `root` is a directory on a filesystem that
 * holds files, where the lock's and the record's directories (or what of
 * them exists) are writable directories.
 */
export function checkWritableRoot(root: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(root).isDirectory();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    refuse(root, code === 'ENOENT' ? 'no such directory' : `cannot be read (${code ?? (e as Error).message})`, { errno: code });
  }
  if (!isDir) refuse(root, 'not a directory');
  const pseudo = pseudoFilesystem(root);
  if (pseudo) refuse(root, `it is on ${pseudo}, a kernel pseudo-filesystem where macvlanctl cannot keep files`, { filesystem: pseudo });
  for (const dir of [dirname(rootLockPath(root)), stateDir(root)]) {
    const at = nearestExisting(dir);
    const what = at === root ? 'it' : at;
    if (!statSync(at).isDirectory()) refuse(root, `${what} is not a directory`, { path: at });
    const under = pseudoFilesystem(at);
    if (under) refuse(root, `${what} is on ${under}, a kernel pseudo-filesystem where macvlanctl cannot keep files`, { path: at, filesystem: under });
    try {
      accessSync(at, constants.W_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      refuse(root, code === 'EROFS' ? `${what} is on a read-only filesystem` : `${what} is not writable for this user (${code ?? (e as Error).message})`, { path: at, errno: code });
    }
  }
}
