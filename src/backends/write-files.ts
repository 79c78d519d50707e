/**
 * Writes and removes persistence files under --root, each change with a way
 * to put back exactly what was there (content, mode, and directories we had
 * to create), for apply's rollback. A file at one of our paths that does not
 * carry our header is the user's: it is never overwritten or removed.
 */
import { lstatSync, readFileSync, readlinkSync, rmSync, rmdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MacvlanError } from '../model/errors.js';
import { isManagedFile } from './render-common.js';
import { removeStaleTemps, writeFileAtomic } from '../system/atomic-write.js';
import { makeDirs } from '../system/make-dirs.js';

export type Restore = () => void;

export interface FilePort {
  write(path: string, content: string, mode: number): Restore;
  link(path: string, target: string): Restore;
  remove(path: string): Restore;
}

type Before = { kind: 'none' } | { kind: 'file'; content: string; mode: number } | { kind: 'link'; target: string };

function before(onDisk: string): Before {
  try {
    const st = lstatSync(onDisk);
    if (st.isSymbolicLink()) return { kind: 'link', target: readlinkSync(onDisk) };
    return { kind: 'file', content: readFileSync(onDisk, 'utf8'), mode: st.mode & 0o7777 };
  } catch {
    return { kind: 'none' };
  }
}

function refuseForeign(path: string, b: Before, expectLinkTo?: string): void {
  const ours = b.kind === 'none' || (b.kind === 'file' && isManagedFile(b.content)) || (b.kind === 'link' && b.target === expectLinkTo);
  if (!ours) {
    throw new MacvlanError('PLAN_UNSAFE', `${path} exists and was not written by macvlanctl (no "# Managed by macvlanctl" header); it is left alone. Move it away, or choose another --persist backend`, {
      path,
    });
  }
}

/** Makes `dir` and its missing parents; the ones it made, innermost first (the order a restore removes them in). */
function createdInnermostFirst(dir: string): string[] {
  return makeDirs(dir, 0o755).reverse();
}

function restorer(onDisk: string, b: Before, created: string[]): Restore {
  return () => {
    rmSync(onDisk, { force: true });
    if (b.kind === 'file') writeFileAtomic(onDisk, b.content, b.mode);
    else if (b.kind === 'link') symlinkSync(b.target, onDisk);
    for (const d of created) {
      try {
        rmdirSync(d); // only if empty: someone else may have put files there meanwhile
      } catch {
        break;
      }
    }
  };
}

export function realFilePort(root: string): FilePort {
  return {
    write(path, content, mode) {
      const onDisk = join(root, path);
      const b = before(onDisk);
      refuseForeign(path, b);
      const created = createdInnermostFirst(dirname(onDisk));
      writeFileAtomic(onDisk, content, mode);
      return restorer(onDisk, b, created);
    },
    link(path, target) {
      const onDisk = join(root, path);
      const b = before(onDisk);
      refuseForeign(path, b, target);
      const created = createdInnermostFirst(dirname(onDisk));
      rmSync(onDisk, { force: true });
      symlinkSync(target, onDisk);
      return restorer(onDisk, b, created);
    },
    remove(path) {
      const onDisk = join(root, path);
      const b = before(onDisk);
      refuseForeign(path, b, b.kind === 'link' ? b.target : undefined);
      rmSync(onDisk, { force: true });
      removeStaleTemps(onDisk);
      // An emptied drop-in directory of ours (<parent>.network.d) goes too.
      const dir = dirname(onDisk);
      let removedDir = false;
      if (dir.endsWith('.network.d')) {
        try {
          rmdirSync(dir);
          removedDir = true;
        } catch {
          // not empty: the user's drop-ins stay
        }
      }
      return () => {
        if (removedDir) makeDirs(dir, 0o755);
        restorer(onDisk, b, [])();
      };
    },
  };
}
