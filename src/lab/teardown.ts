// Removing a lab: daemons, leftover processes, mounts, namespaces, the lab dir. Used by Lab.destroy()
// and by cleanupStaleLabs() for what crashed runs left behind. Collects every failure, stops at none.

import type { ChildProcess } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountsUnder } from './cgroups.js';
import { stopDockerd } from './dockerd.js';
import { deleteNetns, listNetns, netnsPids } from './netns.js';
import { isAlive, kill, run, sleep, waitGone } from './process.js';
import { LAB_DIR_PREFIX, type LabState, cgroupParentFor, readState } from './state.js';

export async function destroyState(state: LabState, children: Map<string, ChildProcess>, log: (l: string) => void): Promise<void> {
  const errors: string[] = [];
  const step = async (what: string, fn: () => Promise<void> | void) => {
    try {
      await fn();
    } catch (e) {
      errors.push(`${what}: ${(e as Error).message}`);
    }
  };
  await Promise.all(state.hosts.map((h) => step(`stop dockerd ${h.name}`, () => stopDockerd(h, children.get(h.name), log))));
  // processes that are still in a namespace without a dockerd (e.g. a dnsmasq a test started)
  for (const ns of state.netns) {
    await step(`kill processes in ${ns}`, async () => {
      const pids = await netnsPids(ns);
      pids.forEach((p) => kill(p, 'SIGKILL'));
      await waitGone(pids, 5_000);
    });
  }
  await step('unmount', async () => {
    for (const m of mountsUnder(state.dir)) {
      const r = await run('umount', ['-n', '-l', m]);
      if (r.code !== 0 && mountsUnder(state.dir).includes(m)) throw new Error(`umount ${m}: ${r.stderr.trim()}`);
    }
  });
  const present = new Set(await listNetns().catch(() => [] as string[]));
  for (const ns of state.netns) {
    if (!present.has(ns)) continue;
    await step(`delete netns ${ns}`, () => deleteNetns(ns));
  }
  await step('remove lab dir', async () => {
    for (let i = 0; ; i++) {
      try {
        rmSync(state.dir, { recursive: true, force: true });
        return;
      } catch (e) {
        if (i >= 20) throw e;
        await sleep(100);
      }
    }
  });
  if (errors.length) throw new Error(`lab ${state.prefix} cleanup incomplete:\n  ${errors.join('\n  ')}`);
}

/**
 * Removes what earlier runs left behind: every lab whose prefix starts with `prefix` (state dir in
 * os.tmpdir()) and whose owning process is gone, and every network namespace named `${prefix}…`
 * that no live lab claims. Labs of processes that are still running are left alone unless `force`.
 * Returns the prefixes / namespaces it removed.
 */
export async function cleanupStaleLabs(
  prefix = 'mvl',
  opts: { force?: boolean; log?: (line: string) => void } = {},
): Promise<string[]> {
  const log = opts.log ?? (() => {});
  const removed: string[] = [];
  const claimed = new Set<string>();
  const errors: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(tmpdir()).filter((e) => e.startsWith(`${LAB_DIR_PREFIX}${prefix}`));
  } catch {
    /* no tmpdir */
  }
  for (const e of entries) {
    const dir = join(tmpdir(), e);
    const state = readState(dir) ?? {
      version: 1 as const,
      prefix: e.slice(LAB_DIR_PREFIX.length),
      ownerPid: 0,
      createdAt: '',
      dir,
      netns: [],
      hosts: [],
    };
    const ownerAlive = state.ownerPid > 0 && isAlive(state.ownerPid);
    if (ownerAlive && !opts.force) {
      state.netns.forEach((n) => claimed.add(n));
      continue;
    }
    log(`removing stale lab ${state.prefix}`);
    try {
      await destroyState(state, new Map(), log);
      removed.push(state.prefix);
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  for (const ns of await listNetns()) {
    if (!ns.startsWith(prefix) || claimed.has(ns)) continue;
    const host = ns.slice(ns.lastIndexOf('-') + 1);
    log(`removing stale namespace ${ns}`);
    try {
      await destroyState(
        {
          version: 1,
          prefix: ns,
          ownerPid: 0,
          createdAt: '',
          dir: join(tmpdir(), `${LAB_DIR_PREFIX}orphan-${ns}`),
          netns: [ns],
          hosts: [{ name: host, netns: ns, docker: { cgroupParent: cgroupParentFor(ns) } }],
        },
        new Map(),
        log,
      );
      removed.push(ns);
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  if (errors.length) throw new Error(errors.join('\n'));
  return removed;
}
