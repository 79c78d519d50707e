/**
 * Gathers what `--persist auto` needs (src/backends/detect.ts) under a root
 * directory, the tool's --root: the managers' configuration files, which of
 * their units are enabled, and — only for the live system — what is running:
 * processes, networkd's per-link state, and `nmcli` when it is there.
 *
 * Live facts are taken only when the root is / and this process shares PID
 * 1's network namespace: inside another namespace (the lab, a container)
 * /proc, /run/systemd/netif and NetworkManager describe the host's links,
 * not ours. Under another root, /run files in that tree are read as they
 * are (a captured tree says what its host ran).
 *
 * Nothing here writes; unreadable files become `problems`, never errors.
 */
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { type LiveObservations, collectManagerFacts } from '../backends/collect.js';
import { networkManagerMayRun, parseNmcliDevices } from '../backends/networkmanager/profiles.js';
import type { PathInfo, RootReader } from '../backends/root-reader.js';
import type { ManagerFacts, NetworkManagerFacts } from '../model/manager-facts.js';
import { run } from '../system/exec.js';

const MAX_FILE = 1024 * 1024;
const MAX_SYMLINKS = 40;

/** What lstat said of host paths under one root: a symlink's target, or null (not a symlink, or missing). */
export type LinkCache = Map<string, string | null>;

/**
 * Host path of `path` under `root`, with symlinks resolved inside the root
 * (an absolute target starts again at the root, as it would on that host).
 * `followLast: false` leaves the last component as it is (for lstat).
 * `links` remembers each prefix's lstat across calls: detection resolves
 * a few hundred paths that share a handful of directories.
 */
export function resolveInRoot(root: string, path: string, followLast = true, links: LinkCache = new Map()): string {
  if (root === '/') return path;
  const pending = path.split('/').filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (pending.length) {
    const seg = pending.shift()!;
    if (seg === '.') continue;
    if (seg === '..') {
      done.pop();
      continue;
    }
    if (!followLast && pending.length === 0) {
      done.push(seg);
      break;
    }
    // Plain concatenation: path.join would normalise the whole path again at every step.
    const host = `${root}/${done.length ? `${done.join('/')}/` : ''}${seg}`;
    let target = links.get(host);
    if (target === undefined) {
      target = null;
      try {
        if (lstatSync(host).isSymbolicLink()) target = readlinkSync(host);
      } catch {
        // missing: the rest cannot resolve either; let the caller's fs call fail
      }
      links.set(host, target);
    }
    if (target === null) {
      done.push(seg);
      continue;
    }
    if (++hops > MAX_SYMLINKS) return join(root, ...done, seg, ...pending);
    if (target.startsWith('/')) done.length = 0;
    pending.unshift(...target.split('/').filter(Boolean));
  }
  return join(root, ...done);
}

export function fsRootReader(root: string): RootReader {
  // One gathering lists the unit directories once per unit: keep what was listed.
  const listed = new Map<string, string[]>();
  const links: LinkCache = new Map();
  return {
    list(dir) {
      let names = listed.get(dir);
      if (!names) {
        try {
          names = readdirSync(resolveInRoot(root, dir, true, links)).sort();
        } catch {
          names = [];
        }
        listed.set(dir, names);
      }
      return names;
    },
    info(path): PathInfo | undefined {
      try {
        const host = resolveInRoot(root, path, false, links);
        const st = lstatSync(host);
        if (st.isSymbolicLink()) return { type: 'symlink', size: st.size, target: readlinkSync(host) };
        return { type: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other', size: st.size };
      } catch {
        return undefined;
      }
    },
    read(path) {
      try {
        const host = resolveInRoot(root, path, true, links);
        const buf = readFileSync(host);
        return buf.subarray(0, MAX_FILE).toString('utf8');
      } catch {
        return undefined;
      }
    },
  };
}

/** Whether this process is in PID 1's network namespace (unknown, e.g. without the right to look: assumed so). */
export function inInitNetns(): boolean {
  let self: string;
  try {
    self = readlinkSync('/proc/self/ns/net');
  } catch {
    return true;
  }
  try {
    return readlinkSync('/proc/1/ns/net') === self;
  } catch {
    return true;
  }
}

/** Names (comm, at most 15 characters) of the running processes. */
function processNames(): Set<string> {
  const out = new Set<string>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^[0-9]+$/.test(n));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      out.add(readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export interface ManagerFactsOptions {
  /** Read the live system too (processes, networkd's link states, nmcli). Default: root is / and this is PID 1's network namespace. */
  live?: boolean;
  /** The nmcli program (default: nmcli on PATH). */
  nmcli?: string;
  nmcliTimeoutMs?: number;
}

async function askNmcli(program: string, timeoutMs: number): Promise<{ devices?: NetworkManagerFacts['devices']; running?: boolean }> {
  try {
    const r = await run(program, ['-t', '-f', 'DEVICE,STATE,CONNECTION', 'device'], { timeoutMs, env: { ...process.env, LC_ALL: 'C' } });
    return { devices: parseNmcliDevices(r.stdout), running: true };
  } catch (e) {
    // Not installed (ENOENT) says nothing; "NetworkManager is not running" says it does not run.
    const msg = (e as Error).message;
    return /not running/i.test(msg) ? { running: false } : {};
  }
}

export async function gatherManagerFacts(root: string, opts: ManagerFactsOptions = {}): Promise<ManagerFacts> {
  const live = opts.live ?? (root === '/' && inInitNetns());
  const reader = fsRootReader(root);
  const observations: LiveObservations = {
    // Runtime files under /run describe the host that wrote them: the live one, or the tree's own.
    runtimeFiles: live || root !== '/',
  };
  if (live) {
    observations.processes = processNames();
    // nmcli only where NetworkManager may be there at all.
    if (networkManagerMayRun(reader)) {
      observations.nmcli = await askNmcli(opts.nmcli ?? 'nmcli', opts.nmcliTimeoutMs ?? 3000);
    }
  }
  return collectManagerFacts(reader, root, observations);
}
