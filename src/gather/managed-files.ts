/**
 * Finds the persistence files macvlanctl wrote earlier, under --root, by the
 * header every one of them starts with (src/backends/render-common.ts) — never by
 * name alone, so a user's file that happens to look like ours is not touched.
 * The places are those each backend declares (its ownFiles, src/backends/<name>/index.ts);
 * enabling a systemd unit adds a symlink in multi-user.target.wants,
 * recognised by what it points to.
 */
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ManagedFile } from '../model/facts.js';
import { BACKENDS } from '../backends/registry.js';

/** On the first line, or on the second after a script's `#!` line. */
const HEADER = /^(?:#![^\n]*\n)?# Managed by macvlanctl for network (\S+)\. /;

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readOurs(root: string, path: string): ManagedFile | undefined {
  const onDisk = join(root, path);
  try {
    const st = lstatSync(onDisk);
    if (!st.isFile() || st.size > 64 * 1024) return undefined;
    const content = readFileSync(onDisk, 'utf8');
    const m = HEADER.exec(content);
    return m ? { path, network: m[1]!, content, mode: st.mode & 0o7777 } : undefined;
  } catch {
    return undefined;
  }
}

export function readManagedFiles(root: string): ManagedFile[] {
  const out: ManagedFile[] = [];
  for (const { dir, dropInFolders } of BACKENDS.flatMap((b) => b.ownFiles.dirs)) {
    for (const name of list(join(root, dir))) {
      if (name.startsWith('.')) continue;
      // networkd drop-ins sit in <parent's file>.d/: our header marks them too.
      if (dropInFolders && name.endsWith('.d')) {
        for (const inner of list(join(root, dir, name))) {
          const f = readOurs(root, `${dir}/${name}/${inner}`);
          if (f) out.push(f);
        }
        continue;
      }
      const f = readOurs(root, `${dir}/${name}`);
      if (f) out.push(f);
    }
  }
  for (const links of BACKENDS.flatMap((b) => (b.ownFiles.enableLinks ? [b.ownFiles.enableLinks] : []))) {
    for (const name of list(join(root, links.dir))) {
      const network = links.networkOf(name);
      if (network === undefined) continue;
      try {
        const target = readlinkSync(join(root, links.dir, name));
        if (target === links.target(name)) out.push({ path: `${links.dir}/${name}`, network, symlink: target });
      } catch {
        // not a symlink: not ours
      }
    }
  }
  // Plain code-unit order: the first localeCompare of a process sets up ICU's collator, about 6 ms.
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
