/**
 * `scanLan`: live hosts and DHCP servers on a parent's LAN, seen from a
 * throwaway network namespace (what `macvlanctl scan` shows, and what plan
 * and apply look at before they take addresses).
 *
 *   1. check the request (bad input: exit 2, nothing started);
 *   2. start the worker as `unshare --net node scan-worker.cjs`: a namespace
 *      that exists exactly as long as that process does;
 *   3. once it says it is ready (and its namespace is not ours), create a
 *      macvlan child of the parent directly inside it (`ip link add … netns
 *      PID`): the host's own namespace never holds it, not even briefly;
 *   4. the worker sweeps and probes (scan-worker.ts), reports, and exits;
 *      namespace and macvlan vanish with it, also when it crashes or is
 *      killed: there is nothing to clean up.
 *
 * The host's neighbour table, addresses, DHCP client and port 68 are not
 * touched; on the wire there are only ARP probes with sender 0.0.0.0 (no
 * neighbour learns anything from them), DHCPDISCOVERs (never a REQUEST, so no
 * lease is taken) and, with an IPv6 subnet, one echo request to ff02::1 from
 * a random temporary address of the probe (neighbours resolve that address
 * to answer it, so their caches hold it, with the probe macvlan's own random
 * MAC, until they age it out; see neighbours6.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MacvlanError } from '../model/errors.js';
import type { InterfaceFact, RouteFact } from '../model/facts.js';
import type { LanScan, LiveHost } from '../model/lan.js';
import { formatCidr } from '../net/address.js';
import { estimateDhcpPool } from '../plan/dhcp-pool.js';
import { hasNetAdmin } from '../system/capabilities.js';
import { run } from '../system/exec.js';
import { gatherIpFacts } from './host-facts.js';
import { summarizeOffers } from '../probe/dhcp-offers.js';
import { classifyNeighbours6, probeAddress6 } from '../probe/probe-address6.js';
import type { WorkerMessage, WorkerResult, WorkerStart } from '../probe/scan-protocol.js';
import { checkScanNumbers, resolveScanTarget } from '../probe/scan-request.js';
import { REPROBE_DEADLINE_MS } from '../probe/reprobe.js';
import { sweepLimits, sweepRange } from '../probe/sweep.js';

export interface ScanProgress {
  /** Addresses probed so far. */
  sent: number;
  total: number;
  /** Live hosts found so far. */
  found: number;
}

export interface ScanLanOptions {
  parent: string;
  /** IPv4 subnet (CIDR text) on the parent, at most a /16. */
  subnet: string;
  /** IPv6 subnet (CIDR text) whose neighbours are asked with an all-nodes echo, next to the sweep (needs `live`). */
  subnet6?: string;
  /** At most this many probes (ARP requests) per second. */
  rate: number;
  /** Sweep for live hosts. */
  live: boolean;
  /** Probe for DHCP servers and their offers. */
  dhcp: boolean;
  /** How long to collect DHCP offers, in milliseconds. */
  dhcpWaitMs: number;
  onProgress?: (p: ScanProgress) => void;
  /** The host's interfaces and routes when the caller has them already (saves an `ip` run). */
  ipFacts?: { interfaces: InterfaceFact[]; routes: RouteFact[] };
}

/** How long after a block's last probe its answers are read: hosts that answer within 100 ms are found. */
export const ANSWER_WINDOW_MS = 110;
/**
 * How long after the all-nodes echo the IPv6 neighbours are read. Lab hosts
 * answer within 1 ms; the margin is for real LANs, where a power-saving Wi-Fi
 * client hears multicast only at its access point's next DTIM beacon (every
 * 100–300 ms). It runs next to the ARP sweep, which takes longer for a /24.
 */
export const IPV6_WINDOW_MS = 250;
/** DISCOVERs from at most this many random clients, one at a time, at least this far apart (dhcp-offers.ts: nextDiscoverAt). */
export const DHCP_CLIENTS = 6;
export const DHCP_SPACING_MS = 200;
/** The probe interface's name inside the worker's namespace (nothing else is there). */
const PROBE_IFNAME = 'mvlscan0';

/** dist/scan-worker.cjs, from the bundle (dist/), from tsc's output (dist/gather/) or from the sources (src/gather/, under vitest). */
export function scanWorkerPath(): string {
  const here = import.meta.dirname;
  const candidates = [join(here, 'scan-worker.cjs'), join(here, '..', 'scan-worker.cjs'), join(here, '..', '..', 'dist', 'scan-worker.cjs')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new MacvlanError('SYSTEM_ERROR', `the scan worker (scan-worker.cjs) is missing next to the program; rebuild it with npm run build`, { looked: candidates });
  return found;
}

/** The kernel's neighbour-table limits as the host namespace sees them (elsewhere: the kernel defaults). */
function neighbourTableNow(): { thresh2: number; entries: number } {
  let thresh2 = 512;
  let entries = 0;
  try {
    thresh2 = Number(readFileSync('/proc/sys/net/ipv4/neigh/default/gc_thresh2', 'utf8').trim()) || 512;
  } catch {
    // not the initial namespace: the file is not there
  }
  try {
    // The first field of the second line is the table's entry count, in hex, all namespaces together.
    const line = readFileSync('/proc/net/stat/arp_cache', 'utf8').split('\n')[1] ?? '';
    entries = parseInt(line.trim().split(/\s+/)[0] ?? '0', 16) || 0;
  } catch {
    // as above
  }
  return { thresh2, entries };
}

function netnsId(pid: number | 'self'): string {
  return readlinkSync(`/proc/${pid}/ns/net`);
}

interface Worker {
  child: ChildProcess;
  next(): Promise<WorkerMessage>;
  stderr(): string;
  exited: Promise<void>;
}

function startWorker(path: string): Worker {
  const child = spawn('unshare', ['--net', '--', process.execPath, path], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    if (err.length < 8000) err += d;
  });
  child.stdin!.on('error', () => undefined); // a dead worker is reported by its exit
  const queue: WorkerMessage[] = [];
  const waiters: { resolve: (m: WorkerMessage) => void; reject: (e: Error) => void }[] = [];
  let ended: Error | undefined;
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (l) => {
    let m: WorkerMessage;
    try {
      m = JSON.parse(l) as WorkerMessage;
    } catch {
      return; // not ours to read
    }
    const w = waiters.shift();
    if (w) w.resolve(m);
    else queue.push(m);
  });
  const exited = new Promise<void>((resolve) => {
    child.on('close', (code, signal) => {
      ended = new Error(`the scan worker stopped (${signal ?? `exit ${code}`})${err.trim() ? `: ${err.trim().split('\n').slice(-3).join('; ')}` : ''}`);
      for (const w of waiters.splice(0)) w.reject(ended);
      resolve();
    });
    child.on('error', (e) => {
      ended = e;
      for (const w of waiters.splice(0)) w.reject(e);
      resolve();
    });
  });
  return {
    child,
    exited,
    stderr: () => err,
    next: () => {
      const m = queue.shift();
      if (m) return Promise.resolve(m);
      if (ended) return Promise.reject(ended);
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new MacvlanError('SYSTEM_ERROR', `the scan worker did not ${what} within ${ms / 1000} s`)), ms);
    }),
  ]);
}

function workerFailure(e: unknown, w: Worker): MacvlanError {
  if (e instanceof MacvlanError) return e;
  const text = `${(e as Error)?.message ?? String(e)} ${w.stderr()}`;
  if (/Operation not permitted|EPERM|EACCES/.test(text)) {
    return new MacvlanError('NOT_PERMITTED', `the scan needs root (a network namespace and a macvlan): ${(e as Error)?.message ?? e}`);
  }
  return new MacvlanError('SYSTEM_ERROR', `LAN scan: ${(e as Error)?.message ?? String(e)}`);
}

/**
 * Runs the worker once: starts it in its own namespace, gives it a macvlan
 * child of `parent`, sends `start`, relays progress, and returns its result.
 * The worker (and with it the namespace and the macvlan) is gone when this
 * returns or throws.
 */
async function runWorker(
  parent: string,
  start: Omit<WorkerStart, 't' | 'ifname'>,
  expectedMs: number,
  onProgress?: (p: ScanProgress) => void,
): Promise<{ result: WorkerResult; times: { ready: number; link: number; result: number } }> {
  const w = startWorker(scanWorkerPath());
  try {
    const ready = await withTimeout(w.next(), 10_000, 'start');
    if (ready.t !== 'ready') throw new Error(ready.t === 'error' ? ready.message : `unexpected '${ready.t}' from the scan worker`);
    const tReady = performance.now();
    const pid = w.child.pid!;
    // Never create the probe interface in our own namespace: the worker must be in a new one.
    if (netnsId(pid) === netnsId('self')) throw new MacvlanError('SYSTEM_ERROR', 'the scan worker is not in a namespace of its own; nothing was created');
    await run('ip', ['link', 'add', 'link', parent, 'name', PROBE_IFNAME, 'netns', String(pid), 'type', 'macvlan', 'mode', 'bridge']);
    const tLink = performance.now();
    w.child.stdin!.write(`${JSON.stringify({ t: 'start', ifname: PROBE_IFNAME, ...start } satisfies WorkerStart)}\n`);
    const deadline = Date.now() + expectedMs + 15_000;
    let result: WorkerResult | undefined;
    while (!result) {
      const m = await withTimeout(w.next(), Math.max(1, deadline - Date.now()), 'finish');
      if (m.t === 'progress') onProgress?.({ sent: m.sent, total: m.total, found: m.found });
      else if (m.t === 'error') throw new Error(m.message);
      else if (m.t === 'result') result = m;
    }
    w.child.stdin!.end();
    const tResult = performance.now();
    await withTimeout(w.exited, 5_000, 'exit');
    return { result, times: { ready: tReady, link: tLink, result: tResult } };
  } catch (e) {
    throw workerFailure(e, w);
  } finally {
    // Whatever happened: the worker goes, and with it the namespace and the macvlan.
    if (w.child.exitCode === null && w.child.signalCode === null) {
      w.child.kill('SIGKILL');
      await w.exited;
    }
  }
}

/** Scans the LAN on `parent`. Bad input throws a usage MacvlanError (exit 2) before anything starts. */
export async function scanLan(opts: ScanLanOptions): Promise<LanScan> {
  const t0 = performance.now();
  checkScanNumbers(opts);
  const facts = opts.ipFacts ?? (await gatherIpFacts());
  const target = resolveScanTarget(facts.interfaces, facts.routes, { parent: opts.parent, subnet: opts.subnet, ...(opts.subnet6 !== undefined ? { subnet6: opts.subnet6 } : {}) });
  // IPv6 neighbours are live hosts: asked only when the sweep runs.
  const subnet6 = opts.live ? target.subnet6 : undefined;
  const address6 = subnet6 ? probeAddress6(subnet6, randomBytes(8)) : undefined;
  if (!hasNetAdmin()) {
    throw new MacvlanError('NOT_PERMITTED', 'the scan needs the CAP_NET_ADMIN capability (a network namespace and a macvlan), and this process does not have it; run it as root (sudo macvlanctl scan …)');
  }
  const subnet = target.subnet;
  const base = Number(subnet.base);
  const { count } = sweepRange(base, subnet.prefix);
  const limits = sweepLimits(neighbourTableNow());
  const startedAt = new Date();
  const start: Omit<WorkerStart, 't' | 'ifname'> = {
    base,
    prefix: subnet.prefix,
    live: opts.live,
    dhcp: opts.dhcp,
    rate: opts.rate,
    answerWindowMs: ANSWER_WINDOW_MS,
    maxInFlight: limits.maxInFlight,
    blockSize: limits.blockSize,
    dhcpWaitMs: opts.dhcpWaitMs,
    dhcpClients: DHCP_CLIENTS,
    dhcpSpacingMs: DHCP_SPACING_MS,
  };
  if (subnet6 && address6) start.ipv6 = { address: address6, prefix: subnet6.prefix, windowMs: IPV6_WINDOW_MS };
  // Generous: the sweep's own time at the rate (plus one read per block), or the DHCP wait, plus slack.
  const expectedMs = Math.max(opts.live ? (count / opts.rate) * 1000 * 1.5 + (count / limits.blockSize) * 60 : 0, opts.dhcp ? opts.dhcpWaitMs : 0);
  const { result, times } = await runWorker(target.parent.name, start, expectedMs, opts.onProgress);
  if (process.env.MACVLANCTL_SCAN_TIMINGS === '1') {
    const ms = (t: number) => Math.round(t - t0);
    process.stderr.write(`scan timings (ms since scanLan started): worker ready ${ms(times.ready)}, probe link ${ms(times.link)}, result ${ms(times.result)}, worker gone ${ms(performance.now())}; in the worker: ${JSON.stringify(result.timings)}\n`);
  }

  const scan: LanScan = {
    parent: target.parent.name,
    subnet: formatCidr(subnet),
    scannedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - t0),
  };
  if (result.live) scan.live = result.live;
  if (subnet6 && address6) {
    scan.subnet6 = formatCidr(subnet6);
    if (result.ipv6 && 'answered' in result.ipv6) Object.assign(scan, classifyNeighbours6(result.ipv6.answered, subnet6, address6));
    else scan.ipv6Failure = result.ipv6 && 'failure' in result.ipv6 ? result.ipv6.failure : 'the scan worker did not ask the IPv6 neighbours';
  }
  if (result.dhcp) {
    const { servers, offers } = summarizeOffers(result.dhcp.offers, result.live ?? []);
    scan.dhcp = { servers, offers };
    const pool = estimateDhcpPool(offers, subnet);
    if (pool) scan.dhcp.pool = pool;
  }
  return scan;
}

export interface ReprobeOptions {
  parent: string;
  /** The IPv4 subnet of the scan (CIDR text): the probe's route. */
  subnet: string;
  /** The IPv6 subnet, needed when any address is IPv6 (the probe solicits from a temporary address in it). */
  subnet6?: string;
  /** The addresses to ask again (either family, as text). */
  addresses: string[];
  ipFacts?: { interfaces: InterfaceFact[]; routes: RouteFact[] };
}

export interface ReprobeResult {
  /** ISO time the re-probe started. */
  at: string;
  durationMs: number;
  /** Those of `addresses` that answered, with their MACs. */
  answered: LiveHost[];
}

/**
 * Asks just `addresses` again, live, from a throwaway namespace as the scan
 * does (ARP probes with sender 0.0.0.0; IPv6 neighbour solicitations from a
 * random temporary address): milliseconds for hosts that answer, about half
 * a second for those that do not (src/probe/reprobe.ts).
 */
export async function reprobeLan(opts: ReprobeOptions): Promise<ReprobeResult> {
  const t0 = performance.now();
  const at = new Date().toISOString();
  const facts = opts.ipFacts ?? (await gatherIpFacts());
  const any6 = opts.addresses.some((a) => a.includes(':'));
  const target = resolveScanTarget(facts.interfaces, facts.routes, { parent: opts.parent, subnet: opts.subnet, ...(any6 && opts.subnet6 ? { subnet6: opts.subnet6 } : {}) });
  if (!hasNetAdmin()) throw new MacvlanError('NOT_PERMITTED', 'probing the LAN needs the CAP_NET_ADMIN capability (a network namespace and a macvlan), and this process does not have it');
  const subnet6 = any6 ? target.subnet6 : undefined;
  const addresses = opts.addresses.filter((a) => !a.includes(':') || subnet6);
  const start: Omit<WorkerStart, 't' | 'ifname'> = {
    base: Number(target.subnet.base),
    prefix: target.subnet.prefix,
    live: false,
    dhcp: false,
    rate: 1,
    answerWindowMs: ANSWER_WINDOW_MS,
    maxInFlight: 16,
    blockSize: 16,
    dhcpWaitMs: 0,
    dhcpClients: 0,
    dhcpSpacingMs: 0,
    reprobe: addresses,
  };
  if (subnet6) start.ipv6 = { address: probeAddress6(subnet6, randomBytes(8)), prefix: subnet6.prefix, windowMs: 0 };
  const { result } = await runWorker(target.parent.name, start, REPROBE_DEADLINE_MS);
  return { at, durationMs: Math.round(performance.now() - t0), answered: result.reprobed ?? [] };
}
