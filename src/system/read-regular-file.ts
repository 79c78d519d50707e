/**
 * Reads a file that a person names on the command line (-f), with bounded
 * work: only a regular file is read (a FIFO would block forever, /dev/zero or
 * /dev/urandom never end), and at most `maxBytes` of it.
 */
import { type Stats, constants } from 'node:fs';
import { open } from 'node:fs/promises';

export type FileKind = 'directory' | 'FIFO (named pipe)' | 'character device' | 'block device' | 'socket' | 'special file';

/** Why a file was not read: not a regular file, or larger than the cap. */
export class FileRefused extends Error {
  constructor(
    readonly why: { kind: FileKind } | { tooLarge: number },
    message: string,
  ) {
    super(message);
    this.name = 'FileRefused';
  }
}

function kindOf(st: Stats): FileKind {
  if (st.isDirectory()) return 'directory';
  if (st.isFIFO()) return 'FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isSocket()) return 'socket';
  return 'special file';
}

/**
 * The text of the regular file at `path` (symlinks followed), if it holds at
 * most `maxBytes` bytes. Throws FileRefused for anything else, and the
 * system's error (ENOENT, EACCES, …) when it cannot be opened.
 */
export async function readRegularFile(path: string, maxBytes: number): Promise<string> {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer
  // forever, before fstat could say what it is. A regular file ignores it.
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      const kind = kindOf(st);
      throw new FileRefused({ kind }, `${path} is a ${kind}, not a regular file`);
    }
    // st.size is not trusted (files under /proc say 0): one byte past the cap proves the file too large.
    const buf = Buffer.allocUnsafe(maxBytes + 1);
    let length = 0;
    while (length < buf.length) {
      const { bytesRead } = await fh.read(buf, length, buf.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) throw new FileRefused({ tooLarge: maxBytes }, `${path} is larger than ${maxBytes} bytes`);
    return buf.subarray(0, length).toString('utf8');
  } finally {
    await fh.close();
  }
}
