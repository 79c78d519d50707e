/**
 * `macvlanctl watch`: keeps the host side of the managed networks right, for
 * as long as it runs.
 *
 * Woken, never polling: by the kernel (`ip monitor`, src/system/watch/
 * kernel-monitor.ts) when links, addresses or routes change, and by the
 * Docker engine's events (src/system/watch/docker-events.ts). Each wake-up is
 * debounced into one pass that re-reads the facts and reconciles through the
 * same path as `up` and `apply`: the record apply kept → hostSideChanges →
 * the operations derived from those changes → runOperations. There is no
 * second repair logic here; this module only decides *when* to reconcile and
 * reports what each pass found and did.
 *
 * What the record cannot repair is the containers: when a parent is deleted
 * the kernel deletes their macvlan interfaces too, and Docker never makes
 * them again. After a parent comes back (a new ifindex), and after every
 * (re)connection to the engine, the running containers of the network are
 * checked, and those without their interface are restarted (or, with
 * --no-restart-containers, only reported).
 */
import type { HostFacts } from '../model/facts.js';
import { MacvlanError } from '../model/errors.js';
import type { Change, PlannedNetwork } from '../model/plan.js';
import { hostSideChanges } from '../plan/plan-network.js';
import { routesOnShim, withContainerRoutes } from '../plan/adopt-network.js';
import { gatherIpFacts, type IpFacts } from '../gather/host-facts.js';
import { lockHost } from '../system/lock.js';
import { isDown } from '../system/down-marks.js';
import { listStates, readStateLenient } from '../system/state-store.js';
import { backoffDelay, sleepUnlessAborted } from '../system/watch/backoff.js';
import { debounce } from '../system/watch/debounce.js';
import { type KernelMonitor, type KernelMonitorOptions, monitorKernelChanges } from '../system/watch/kernel-monitor.js';
import { shimOperations } from './operations.js';
import { type Ports, runOperations } from './run-operations.js';

/** What the watcher tells its presenter (one human line or one JSON line each). */
export type WatchReport =
  | { event: 'watching'; networks: string[]; docker: boolean }
  | { event: 'repaired'; network: string; found: string[]; done: string[]; ms: number }
  | { event: 'repair-failed'; network: string; found: string[]; error: { code: string; message: string } }
  | { event: 'waiting'; network: string; for: 'parent'; parent: string }
  /** Taken down on purpose (`macvlanctl down`): left alone until `up` or `apply`. */
  | { event: 'down'; network: string }
  | { event: 'parent-back'; network: string; parent: string }
  | { event: 'problem'; network: string; error: { code: string; message: string } }
  | { event: 'docker'; state: 'connected' | 'lost'; detail: string }
  | { event: 'container-lost'; network: string; container: string; action: 'restarted' | 'reported' | 'restart-failed'; detail?: string }
  | { event: 'stopped'; signal?: string };

/** A container attached to a network, as the watcher needs it. */
export interface AttachedContainer {
  id: string;
  name: string;
  /** Its init's pid (0 when not running). */
  pid: number;
}

/** The engine, while connected (src/apply/watch-docker.ts). */
export interface WatchDocker {
  attached(network: string): Promise<AttachedContainer[]>;
  /** The /32 (and, with `ipv6`, /128) routes of the containers attached to `network` now (for an adopted network). */
  routes(network: string, opts: { ipv6: boolean }): Promise<string[]>;
  restart(id: string): Promise<void>;
  /** Whether the container's network namespace has the connected route of `subnet` (its interface is there). */
  hasInterface(c: AttachedContainer, subnet: string): boolean;
}

export interface WatchOptions {
  root: string;
  /** Networks to watch; empty = every network with a record under root. */
  names: string[];
  restartContainers: boolean;
  report: (r: WatchReport) => void;
  signal: AbortSignal;
  /** Ports for runOperations (only `ip` is used: the host side alone, as for `up`). */
  ports: Ports;
  /** Follows the engine; resolves when `signal` aborts. Absent: no Docker. */
  followDocker?: (hooks: { onConnected(d: WatchDocker): void; onLost(why: string): void; onEvent(): void }) => Promise<void>;
  lockWaitMs?: number;
  /** Coalescing of wake-ups (ms). */
  quietMs?: number;
  maxWaitMs?: number;
  /** Facts reader (tests). */
  gather?: () => Promise<IpFacts>;
  /** The kernel's change notifications (tests; default `ip monitor`). */
  monitor?: (opts: KernelMonitorOptions) => KernelMonitor;
}

/**
 * The pause before a failed repair is tried again: doubling from 0.2 s to 30 s. A repair that fails (and is
 * rolled back) makes kernel events of its own; without a pause it would be retried at once, for ever.
 */
const REPAIR_BACKOFF = { initialMs: 200, maxMs: 30_000, factor: 2 };

interface NetworkMemory {
  parentIndex?: number;
  down?: boolean;
  waiting?: boolean;
  problem?: string;
  /** Containers to check once the engine can be asked (parent re-created, or engine reconnected). */
  checkContainers?: boolean;
  /** Repairs of this network that failed in a row. */
  failures?: number;
  /** Set while this network's failed repair waits for its retry: it wakes a pass when due. */
  retryTimer?: NodeJS.Timeout;
}

/** The records to watch now (re-read each pass: apply adds networks, destroy removes them). */
export function watchedNetworks(root: string, names: readonly string[]): PlannedNetwork[] {
  const all = names.length > 0 ? names : listStates(root);
  const out: PlannedNetwork[] = [];
  for (const name of all) {
    const network = readStateLenient(root, name).state?.network;
    if (network) out.push(network);
  }
  return out;
}

/** The changes that make the host side of `n` right, or why there are none to make now. Pure. */
export function repairsFor(
  n: PlannedNetwork,
  facts: Pick<HostFacts, 'interfaces' | 'routes' | 'proxies6'>,
): { kind: 'ok' } | { kind: 'repair'; changes: Change[] } | { kind: 'no-parent' } | { kind: 'problem'; error: MacvlanError } {
  if (!n.shim) return { kind: 'ok' };
  if (!facts.interfaces.some((i) => i.name === n.parent)) return { kind: 'no-parent' };
  try {
    const changes = hostSideChanges(n, facts as HostFacts).filter((c) => c.action !== 'noop');
    return changes.length ? { kind: 'repair', changes } : { kind: 'ok' };
  } catch (e) {
    if (e instanceof MacvlanError) return { kind: 'problem', error: e };
    throw e;
  }
}

/** What a pass found, in words (for the report; never parsed). */
export function foundText(c: Change): string {
  return `${c.summary}: ${c.reason}`;
}

export async function runWatch(opts: WatchOptions): Promise<void> {
  await new WatchSession(opts).run();
}

/**
 * One `watch` run: the per-network memory, the engine connection, and the pass loop. Wake-ups (kernel,
 * engine, retry timers) are coalesced by a debouncer into passes that run one at a time.
 */
class WatchSession {
  private readonly gather: () => Promise<IpFacts>;
  private readonly memory = new Map<string, NetworkMemory>();
  private docker: WatchDocker | undefined;
  /** Said once per change: a missing engine is waited for, quietly. */
  private dockerSaid: 'connected' | 'lost' | undefined;
  private running = false;
  private again = false;
  private failures = 0;
  private loop: Promise<void> | undefined;
  /** The container checks queued so far (one at a time; see pass). */
  private containerChecks: Promise<void> = Promise.resolve();
  private readonly debouncer: ReturnType<typeof debounce>;

  constructor(private readonly opts: WatchOptions) {
    this.gather = opts.gather ?? (() => gatherIpFacts());
    this.debouncer = debounce(() => this.wake(), { quietMs: opts.quietMs ?? 5, maxWaitMs: opts.maxWaitMs ?? 50 });
  }

  async run(): Promise<void> {
    const opts = this.opts;
    const monitor = (opts.monitor ?? monitorKernelChanges)({ onChange: () => this.debouncer.trigger(), onRestart: () => this.debouncer.trigger() });
    await monitor.ready;
    const dockerDone = this.followDocker();
    opts.report({ event: 'watching', networks: watchedNetworks(opts.root, opts.names).map((n) => n.name), docker: opts.followDocker !== undefined });
    // The first pass: whatever broke while nothing watched.
    this.wake();
    await new Promise<void>((resolve) => {
      if (opts.signal.aborted) return resolve();
      opts.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    this.debouncer.cancel();
    // A restart under way is let finish, so that its report comes before 'stopped' (the command's grace
    // period bounds the wait); no other starts (checkContainers).
    await Promise.all([monitor.stop(), dockerDone, this.loop, this.containerChecks]);
    for (const m of this.memory.values()) if (m.retryTimer) clearTimeout(m.retryTimer);
    opts.report({ event: 'stopped', ...(typeof opts.signal.reason === 'string' ? { signal: opts.signal.reason } : {}) });
  }

  /** The engine connection: on (re)connect every network's containers are checked again, since events are not replayed. */
  private followDocker(): Promise<void> | undefined {
    const opts = this.opts;
    return opts.followDocker?.({
      onConnected: (d) => {
        this.docker = d;
        this.dockerSaid = 'connected';
        // Events are not replayed: every network is checked again, containers included.
        for (const n of watchedNetworks(opts.root, opts.names)) this.mem(n.name).checkContainers = true;
        opts.report({ event: 'docker', state: 'connected', detail: 'following the engine’s events' });
        this.debouncer.trigger();
      },
      onLost: (why) => {
        if (this.dockerSaid !== 'lost') opts.report({ event: 'docker', state: 'lost', detail: `${why}; waiting for it` });
        this.dockerSaid = 'lost';
        this.docker = undefined;
      },
      onEvent: () => this.debouncer.trigger(),
    });
  }

  private mem(name: string): NetworkMemory {
    let m = this.memory.get(name);
    if (!m) this.memory.set(name, (m = {}));
    return m;
  }

  private wake(): void {
    if (this.opts.signal.aborted) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.loop = this.passLoop();
  }

  private async passLoop(): Promise<void> {
    const opts = this.opts;
    this.running = true;
    try {
      do {
        this.again = false;
        if (opts.signal.aborted) break;
        let ok = true;
        try {
          await this.pass();
        } catch (e) {
          ok = false;
          opts.report({ event: 'problem', network: '*', error: errorOf(e) });
        }
        this.failures = ok ? 0 : this.failures + 1;
        // A pass that could not run at all (the lock not had, the facts not read) is tried again after a
        // growing pause. A failed repair of one network waits on its own (retryLater), never holding back
        // the repairs of the others.
        if (!ok) {
          this.again = true;
          await sleepUnlessAborted(backoffDelay(this.failures - 1, REPAIR_BACKOFF), opts.signal);
        }
      } while (this.again && !opts.signal.aborted);
    } finally {
      this.running = false;
    }
  }

  /** One reconcile of every watched network. */
  private async pass(): Promise<void> {
    const opts = this.opts;
    const records = watchedNetworks(opts.root, opts.names);
    // The engine is asked first (an adopted network's containers), outside the lock: it may be slow.
    const attached = await this.containerRoutes(records);
    // The facts are read and acted on under the host lock, as `up` does: an apply in flight is either
    // all before them or all after, and one read serves both the check and the repair.
    const lock = await lockHost(`watch ${records.map((n) => n.name).join(' ') || '(no network yet)'}`, { waitMs: opts.lockWaitMs ?? 30_000 });
    try {
      // The records again, under the lock: a destroy that held it has removed its record, and its shim
      // must not come back.
      const current = watchedNetworks(opts.root, opts.names);
      const facts = await this.gather();
      for (const record of current) await this.reconcile(record, facts, attached);
    } finally {
      lock.release();
    }
    // A restart takes seconds (`docker restart` stops the container first, up to its stop timeout): the
    // checks run one at a time beside the passes, never holding back the next repair of a shim or route.
    const d = this.docker;
    if (d) {
      const networks = records.filter((n) => !this.mem(n.name).down);
      this.containerChecks = this.containerChecks.then(() => this.checkContainers(networks, d)).catch((e: unknown) => opts.report({ event: 'problem', network: '*', error: errorOf(e) }));
    }
  }

  /** One network within a pass: observed, and repaired when it needs it and is not pausing after a failure. */
  private async reconcile(record: PlannedNetwork, facts: IpFacts, attached: Map<string, string[]>): Promise<void> {
    if (this.takenDown(record.name)) return;
    // An adopted network routes the containers attached now (src/plan/adopt-network.ts).
    const n = record.shim?.containerRoutes ? withContainerRoutes(record, attached.get(record.name), routesOnShim(facts, record.shim.interface, record.shim.address6)) : record;
    const verdict = this.observe(n, facts);
    const m = this.mem(n.name);
    if (verdict.kind === 'ok') settle(m);
    if (verdict.kind !== 'repair') return;
    // Its last repair failed: tried again when its pause is over, not on every wake-up meanwhile.
    if (m.retryTimer) return;
    const t0 = performance.now();
    const found = verdict.changes.map(foundText);
    try {
      const ops = shimOperations(verdict.changes, n);
      const report = await runOperations(ops, this.opts.ports, { command: 'up' });
      settle(m);
      this.opts.report({ event: 'repaired', network: n.name, found, done: report.done, ms: Math.round(performance.now() - t0) });
    } catch (e) {
      this.retryLater(m);
      this.opts.report({ event: 'repair-failed', network: n.name, found, error: errorOf(e) });
    }
  }

  /** A failed repair: the network is left alone for a pause that doubles with each failure, then a pass is woken for it. */
  private retryLater(m: NetworkMemory): void {
    m.failures = (m.failures ?? 0) + 1;
    if (m.retryTimer) clearTimeout(m.retryTimer);
    m.retryTimer = setTimeout(() => {
      m.retryTimer = undefined;
      this.debouncer.trigger();
    }, backoffDelay(m.failures - 1, REPAIR_BACKOFF));
  }

  /** Whether `down` took the network down on purpose (said once); then it is left alone. */
  private takenDown(name: string): boolean {
    const m = this.mem(name);
    const down = isDown(name);
    if (down && !m.down) this.opts.report({ event: 'down', network: name });
    m.down = down;
    return down;
  }

  /** Per adopted network, its containers' /32 routes; absent when the engine cannot be asked (then nothing is changed on a guess). */
  private async containerRoutes(networks: PlannedNetwork[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    const d = this.docker;
    if (!d) return out;
    for (const n of networks) {
      if (!n.shim?.containerRoutes) continue;
      try {
        out.set(n.name, await d.routes(n.name, { ipv6: n.shim.address6 !== undefined }));
      } catch {
        // The engine went away mid-pass: its reconnection brings a full resync.
      }
    }
    return out;
  }

  /** Notes the parent's presence and identity; says what the network needs. */
  private observe(n: PlannedNetwork, facts: IpFacts): ReturnType<typeof repairsFor> {
    const m = this.mem(n.name);
    const parent = facts.interfaces.find((i) => i.name === n.parent);
    if (parent) {
      if (m.waiting) this.opts.report({ event: 'parent-back', network: n.name, parent: n.parent });
      // A new ifindex: the parent was deleted and made again, and took the containers' interfaces along.
      if (m.parentIndex !== undefined && m.parentIndex !== parent.index) m.checkContainers = true;
      if (m.waiting) m.checkContainers = true;
      m.parentIndex = parent.index;
      m.waiting = false;
    }
    const verdict = repairsFor(n, facts);
    if (verdict.kind === 'no-parent' && !m.waiting) {
      m.waiting = true;
      this.opts.report({ event: 'waiting', network: n.name, for: 'parent', parent: n.parent });
    }
    if (verdict.kind === 'problem') {
      if (m.problem !== verdict.error.message) this.opts.report({ event: 'problem', network: n.name, error: errorOf(verdict.error) });
      m.problem = verdict.error.message;
    } else {
      m.problem = undefined;
    }
    return verdict;
  }

  private async checkContainers(networks: PlannedNetwork[], d: WatchDocker): Promise<void> {
    for (const n of networks) {
      if (this.opts.signal.aborted) return;
      const m = this.mem(n.name);
      if (!m.checkContainers || m.waiting) continue;
      m.checkContainers = false;
      let attached: AttachedContainer[];
      try {
        attached = await d.attached(n.name);
      } catch (e) {
        m.checkContainers = true; // asked again when the engine is back
        this.opts.report({ event: 'problem', network: n.name, error: errorOf(e) });
        continue;
      }
      for (const c of attached) {
        if (this.opts.signal.aborted) return;
        await this.recoverContainer(n, c, d);
      }
    }
  }

  /** A container whose interface went with its parent: reported, or restarted when asked to. */
  private async recoverContainer(n: PlannedNetwork, c: AttachedContainer, d: WatchDocker): Promise<void> {
    if (c.pid <= 0 || d.hasInterface(c, n.subnet)) return;
    if (!this.opts.restartContainers) {
      this.opts.report({ event: 'container-lost', network: n.name, container: c.name, action: 'reported', detail: 'its interface on the network is gone (the parent was re-created); restart it to get it back' });
      return;
    }
    try {
      await d.restart(c.id);
      this.opts.report({ event: 'container-lost', network: n.name, container: c.name, action: 'restarted' });
    } catch (e) {
      this.opts.report({ event: 'container-lost', network: n.name, container: c.name, action: 'restart-failed', detail: errorOf(e).message });
    }
  }
}

/** The network is right (repaired, or by someone else): a later failure starts its pause afresh. */
function settle(m: NetworkMemory): void {
  m.failures = 0;
  if (m.retryTimer) clearTimeout(m.retryTimer);
  m.retryTimer = undefined;
}

function errorOf(e: unknown): { code: string; message: string } {
  return e instanceof MacvlanError ? { code: e.code, message: e.message } : { code: 'SYSTEM_ERROR', message: (e as Error)?.message ?? String(e) };
}
