/**
 * The watcher's pure decisions: what a network needs against the facts (the
 * same hostSideChanges as `up`), waiting for a missing parent rather than
 * failing, and the report lines; and the loop's pacing of a repair that
 * keeps failing (with the kernel monitor and the engine stood in for).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flagsToRaw } from '../../src/config/flags.js';
import { toDesired } from '../../src/config/to-desired.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { type WatchDocker, type WatchReport, repairsFor, runWatch } from '../../src/apply/watch.js';
import type { Ports } from '../../src/apply/run-operations.js';
import type { PlannedNetwork } from '../../src/model/plan.js';
import { stateDir, stateText, writeStateText } from '../../src/system/state-store.js';
import { watchJsonLine, watchLine } from '../../src/present/watch.js';
import { hostFacts } from '../support/fixture-facts.js';

const planned = () =>
  computePlan([toDesired(flagsToRaw('mynet', { parent: 'eno1', ipRange: ['198.51.100.192/27'], auxAddress: ['host=198.51.100.223'], persist: 'none' }))], hostFacts()).networks[0]!;

describe('what a watched network needs', () => {
  it('a missing shim: the same changes up would make', () => {
    const v = repairsFor(planned(), hostFacts());
    expect(v.kind).toBe('repair');
    if (v.kind === 'repair') expect(v.changes.map((c) => c.kind)).toEqual(expect.arrayContaining(['shim-link', 'shim-address', 'shim-up', 'shim-route']));
  });

  it('a missing parent is waited for, not an error', () => {
    const f = hostFacts();
    expect(repairsFor(planned(), { ...f, interfaces: f.interfaces.filter((i) => i.name !== 'eno1') })).toEqual({ kind: 'no-parent' });
  });

  it('a stranger at the shim’s name is a problem to report, never touched', () => {
    const f = hostFacts();
    const eno1 = f.interfaces.find((i) => i.name === 'eno1')!;
    const v = repairsFor(planned(), { ...f, interfaces: [...f.interfaces, { ...eno1, name: 'mynet-shim', index: 50, kind: 'veth' }] });
    expect(v.kind).toBe('problem');
    if (v.kind === 'problem') expect(v.error.code).toBe('PLAN_UNSAFE');
  });

  it('a network without host access needs nothing', () => {
    const n = { ...planned() };
    delete n.shim;
    expect(repairsFor(n, hostFacts())).toEqual({ kind: 'ok' });
  });
});

describe('report lines', () => {
  it('one human line per repair, saying what was found and what was done', () => {
    const r = { event: 'repaired' as const, network: 'mynet', found: ['link mynet-shim: mynet-shim does not exist'], done: ['create shim mynet-shim', 'route 198.51.100.192/27 via mynet-shim'], ms: 9 };
    expect(watchLine(r)).toBe('mynet: found link mynet-shim: mynet-shim does not exist → create shim mynet-shim, route 198.51.100.192/27 via mynet-shim (9 ms)\n');
    expect(JSON.parse(watchJsonLine(r, new Date('2026-12-06T04:00:00Z')))).toEqual({ schemaVersion: 2, command: 'watch', time: '2026-12-06T04:00:00.000Z', ...r });
  });

  it('a container that lost its interface, restarted or only reported', () => {
    expect(watchLine({ event: 'container-lost', network: 'mynet', container: 'web', action: 'restarted' })).toMatch(/container web had lost its interface .* restarted it/);
    expect(watchLine({ event: 'container-lost', network: 'mynet', container: 'web', action: 'reported', detail: 'its interface is gone' })).toMatch(/--no-restart-containers/);
  });
});

/**
 * runWatch on records under `root`, with the kernel monitor and the engine stood in for; the shim is never
 * there in the facts, so every pass repairs it. `wakeByEngine` is an engine event; `docker`, when given, is
 * connected at once.
 */
function watchWithStandIns(root: string, ip: Partial<Ports['ip']>, docker?: WatchDocker) {
  const ports = { ip: { batch: async () => {}, batchForce: async () => [], sysctl: () => {}, ...ip }, log: () => {} } as unknown as Ports;
  const reports: WatchReport[] = [];
  /** When each report came (performance.now()), by index. */
  const at: number[] = [];
  const controller = new AbortController();
  let wake = () => {};
  const done = runWatch({
    root,
    names: [],
    restartContainers: true,
    report: (r) => {
      reports.push(r);
      at.push(performance.now());
    },
    signal: controller.signal,
    ports,
    gather: async () => ({ ...hostFacts(), proxies6: [] }),
    monitor: () => ({ ready: Promise.resolve(), stop: async () => {} }),
    followDocker: (hooks) => {
      if (docker) hooks.onConnected(docker);
      wake = hooks.onEvent;
      return new Promise((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }));
    },
  });
  return {
    reports,
    at,
    wakeByEngine: () => wake(),
    stop: async () => {
      controller.abort('SIGTERM');
      await done;
    },
  };
}

/** Polls `check` until it holds or `ms` have passed; says whether it held. */
async function waitFor(check: () => boolean, ms = 10_000): Promise<boolean> {
  const t0 = performance.now();
  while (!check() && performance.now() - t0 < ms) await sleep(5);
  return check();
}

describe('the pass loop', () => {
  let dir: string;
  let lockDir: string | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-watch-loop-'));
    lockDir = process.env.MACVLANCTL_LOCK_DIR;
    process.env.MACVLANCTL_LOCK_DIR = join(dir, 'locks');
  });
  afterEach(() => {
    if (lockDir === undefined) delete process.env.MACVLANCTL_LOCK_DIR;
    else process.env.MACVLANCTL_LOCK_DIR = lockDir;
    rmSync(dir, { recursive: true, force: true });
  });

  it('a repair that keeps failing is retried after its own growing pause, and never holds back the repair of another network', async () => {
    const root = join(dir, 'root');
    const broken = planned();
    const other: PlannedNetwork = { ...broken, name: 'othernet', shim: { ...broken.shim!, interface: 'othernet-shim', mac: '02:42:c6:33:64:99' } };
    for (const n of [broken, other]) {
      mkdirSync(stateDir(root), { recursive: true });
      writeStateText(root, n.name, stateText(n));
    }
    // mynet's repair always fails, othernet's succeeds.
    const w = watchWithStandIns(root, {
      batch: async (lines: string[]) => {
        if (lines.some((l) => l.includes('mynet-shim'))) throw new Error('RTNETLINK answers: Operation not permitted');
      },
    });
    const times = (event: string, network: string) => w.reports.flatMap((r, i) => (r.event === event && 'network' in r && r.network === network ? [w.at[i]!] : []));
    try {
      // The order and the least gaps are checked, never an upper bound on time: a loaded machine only
      // makes every pause longer. Timers never fire early (a millisecond of rounding aside).
      expect(await waitFor(() => times('repair-failed', 'mynet').length >= 3)).toBe(true);
      const failed = times('repair-failed', 'mynet');
      expect(failed[1]! - failed[0]!).toBeGreaterThanOrEqual(200 - 2);
      expect(failed[2]! - failed[1]!).toBeGreaterThanOrEqual(400 - 2);
      // mynet now waits 0.8 s. othernet breaks again (an engine event wakes the watcher): it is repaired
      // at once, not after mynet's pause…
      const repaired = times('repaired', 'othernet').length;
      const woken = performance.now();
      w.wakeByEngine();
      expect(await waitFor(() => times('repaired', 'othernet').length > repaired)).toBe(true);
      // …and mynet is not tried again before its time.
      const next = await waitFor(() => times('repair-failed', 'mynet').length >= 4);
      expect(next).toBe(true);
      const fourth = times('repair-failed', 'mynet')[3]!;
      expect(fourth - failed[2]!).toBeGreaterThanOrEqual(800 - 2);
      expect(times('repaired', 'othernet')[repaired]!).toBeLessThan(fourth);
      expect(times('repaired', 'othernet')[repaired]!).toBeGreaterThanOrEqual(woken);
    } finally {
      await w.stop();
    }
    expect(w.reports.at(-1)).toEqual({ event: 'stopped', signal: 'SIGTERM' });
  }, 20_000);

  it('stopped while a container restarts: that restart is let finish and reported, no other starts, and "stopped" comes last', async () => {
    const root = join(dir, 'root');
    mkdirSync(stateDir(root), { recursive: true });
    writeStateText(root, 'mynet', stateText(planned()));
    const restarted: string[] = [];
    let restarting = false;
    // Two containers that lost their interface; each restart takes 300 ms.
    const docker: WatchDocker = {
      attached: async () => [
        { id: 'c1', name: 'web', pid: process.pid },
        { id: 'c2', name: 'db', pid: process.pid },
      ],
      routes: async () => [],
      hasInterface: () => false,
      restart: async (id) => {
        restarting = true;
        await sleep(300);
        restarted.push(id);
        restarting = false;
      },
    };
    const w = watchWithStandIns(root, {}, docker);
    expect(await waitFor(() => restarting)).toBe(true);
    await w.stop();
    expect(restarted).toEqual(['c1']);
    const events = w.reports.map((r) => (r.event === 'container-lost' ? `${r.event} ${r.container} ${r.action}` : r.event));
    expect(events.filter((e) => e.startsWith('container-lost'))).toEqual(['container-lost web restarted']);
    expect(events.at(-1)).toBe('stopped');
  }, 20_000);

  it('a container restart (seconds long) runs beside the repairs, never holding them back', async () => {
    const root = join(dir, 'root');
    mkdirSync(stateDir(root), { recursive: true });
    writeStateText(root, 'mynet', stateText(planned()));
    let restarting = false;
    // The engine: one running container that lost its interface, whose restart takes 2 s (its stop timeout).
    const docker: WatchDocker = {
      attached: async () => [{ id: 'c1', name: 'web', pid: process.pid }],
      routes: async () => [],
      hasInterface: () => false,
      restart: async () => {
        restarting = true;
        await sleep(2_000);
        restarting = false;
      },
    };
    const w = watchWithStandIns(root, {}, docker);
    const repaired = () => w.reports.filter((r) => r.event === 'repaired').length;
    try {
      expect(await waitFor(() => restarting && repaired() >= 1)).toBe(true);
      const before = repaired();
      // The shim is deleted again while the container restarts: repaired now, not after the restart.
      w.wakeByEngine();
      expect(await waitFor(() => repaired() > before)).toBe(true);
      expect(restarting).toBe(true);
      expect(repaired()).toBe(before + 1);
    } finally {
      await w.stop();
    }
  }, 20_000);
});
