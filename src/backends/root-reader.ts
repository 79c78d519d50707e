/**
 * Read-only access to a root directory (the tool's --root), by paths as on
 * that root. src/gather/persist-facts.ts implements it on the filesystem;
 * everything in src/backends reads through it, so none of it touches a disk.
 */
export interface PathInfo {
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  /** For a symlink: where it points, as written. */
  target?: string;
}

export interface RootReader {
  /** Names in a directory, sorted; [] when it does not exist or cannot be read. */
  list(dir: string): string[];
  /** lstat(2) of a path; undefined when it does not exist. */
  info(path: string): PathInfo | undefined;
  /** A file's text, symlinks followed inside the root; undefined when missing or unreadable. */
  read(path: string): string | undefined;
}

/** Whether a path is masked the systemd way: an empty file or a symlink to /dev/null. */
export function isMasked(info: PathInfo | undefined): boolean {
  if (!info) return false;
  if (info.type === 'symlink') return info.target === '/dev/null';
  return info.type === 'file' && info.size === 0;
}

/** dirname(3) of an absolute path. */
export function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function baseOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}
