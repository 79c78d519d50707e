/**
 * A fingerprint of the network managers' own configuration, the evidence
 * `--persist auto` decides from: systemd-networkd's and netplan's files,
 * /etc/network/interfaces and its folder, NetworkManager's configuration and
 * profiles, and which of their units are enabled. Our own files are left
 * out (they change when apply writes them).
 *
 * apply records it with the backend it chose; a later plan keeps that
 * backend without detecting again only while the fingerprint is the same
 * (src/plan/persist-choice.ts). So renaming the parent's `.network`, a
 * netplan renderer switch or a removed `source` line make it detect afresh.
 *
 * Contents, not times: netplan regenerates /run/systemd/network at every
 * boot, with the same contents. Top-level entries only: about 1.5 ms on a
 * first call on a Debian host, so only commands that plan persistence read it.
 */
import { type Stats, lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIGURATION_SOURCES } from '../backends/registry.js';

// Each source's own list (src/backends/<name>/index.ts), sorted: the fingerprint does not depend on the registry's order.
const FILES = [...new Set(CONFIGURATION_SOURCES.flatMap((s) => s.evidence.files))].sort();
const DIRS = [...new Set(CONFIGURATION_SOURCES.flatMap((s) => s.evidence.dirs))].sort();
const MAX_FILE = 256 * 1024;

/**
 * FNV-1a (32 bits) of a file's bytes: enough to notice an edit, and a plain
 * loop, cheap even cold (SHA-256 over tens of kilobytes of configuration at
 * every start would cost milliseconds). Collisions only cost a missed re-detection.
 */
function fnv1a(bytes: Uint8Array, seed = 0x811c9dc5): string {
  let h = seed;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

function describe(root: string, path: string): string | undefined {
  const host = join(root, path);
  let st: Stats;
  try {
    st = lstatSync(host);
  } catch {
    return undefined;
  }
  if (st.isSymbolicLink()) return `${path} -> ${readlinkSync(host)}`;
  if (!st.isFile() || st.size > MAX_FILE) return `${path} ${st.isDirectory() ? 'dir' : 'other'} ${st.size}`;
  try {
    return `${path} ${(st.mode & 0o7777).toString(8)} ${st.size} ${fnv1a(readFileSync(host))}`;
  } catch {
    return `${path} unreadable`;
  }
}

/** `ours`: paths (as on the root) of our own files, left out. */
export function persistEvidence(root: string, ours: ReadonlySet<string>): string {
  const lines: string[] = [];
  for (const f of FILES) lines.push(describe(root, f) ?? `${f} absent`);
  for (const dir of DIRS) {
    let names: string[];
    try {
      names = readdirSync(join(root, dir)).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const path = `${dir}/${name}`;
      if (ours.has(path)) continue;
      const d = describe(root, path);
      // Drop-in folders (ours among them) are not evidence of who manages the parent.
      if (d && !/ dir \d+$/.test(d)) lines.push(d);
    }
  }
  // Two FNV-1a passes with different seeds: 64 bits, without SHA-256's start-up cost.
  const all = Buffer.from(lines.join('\n'));
  return `${fnv1a(all)}${fnv1a(all, 0x01000193)}`;
}
