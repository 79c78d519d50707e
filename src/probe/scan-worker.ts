/**
 * The scan worker: a separate small bundle (dist/scan-worker.cjs) that
 * lan-scan.ts runs as `unshare --net node scan-worker.cjs`, so it lives in a
 * network namespace of its own. The CLI puts one macvlan child of the parent
 * into that namespace; the worker sweeps for live hosts, asks the IPv6
 * neighbours (when given an IPv6 address to ask from) and probes for DHCP
 * servers from it, all at once, reports, and exits. When it exits, for any reason (a
 * crash, a kill), the namespace goes, and the macvlan with it: nothing of the
 * scan can outlive it, and the host's own neighbour table, DHCP client and
 * port 68 are never touched.
 *
 * Protocol: scan-protocol.ts. Node built-ins only.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { DhcpOfferSeen, LiveHost } from '../model/lan.js';
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, encodeDiscover } from './dhcp-packet.js';
import { type DhcpClient, clientFromRandom, nextDiscoverAt, offerFrom } from './dhcp-offers.js';
import { IPV6_DEFAULTS, allNodesPing, answeredNeighbours6, ipv6Sysctls } from './neighbours6.js';
import { REPROBE_DEADLINE_MS, probeLinkLocal, reprobeLines, reprobeProgress, reprobeSysctls } from './reprobe.js';
import type { WorkerMessage, WorkerResult, WorkerStart } from './scan-protocol.js';
import { type SweepBlock, answeredNeighbours, flushLine, formatIpv4, probesAllowed, resolveLine, sortByAddress, sweepBlocks, sweepRange } from './sweep.js';

function say(m: WorkerMessage): void {
  process.stdout.write(`${JSON.stringify(m)}\n`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/** A sysctl of THIS namespace (/proc/sys/net shows the namespace of the process that opens it). */
function sysctl(path: string, value: string): void {
  writeFileSync(`/proc/sys/${path}`, value);
}

function ip(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('ip', args, { encoding: 'utf8', timeout: 10_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ip ${args.join(' ')}: ${(stderr || err.message).trim()}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/**
 * The probe interface up, with routes but no IPv4 address (see sweep.ts for
 * why); with IPv6 asked for, its one temporary IPv6 address (see
 * neighbours6.ts), added before the link comes up so that no moment exists
 * in which it has IPv6 but not that address.
 */
async function setUp(s: WorkerStart): Promise<void> {
  const cidr = `${formatIpv4(s.base)}/${s.prefix}`;
  if (s.ipv6) {
    // lo too: our own echo comes back to us through it, which is how ping tells that the request left.
    for (const [path, value] of [...ipv6Sysctls(s.ifname), ['net/ipv6/conf/lo/disable_ipv6', '0'] as [string, string]]) sysctl(path, value);
  }
  const lines = [
    // Loopback first: without any address the namespace has no local table, and the kernel would send every probe to ff:ff:ff:ff:ff:ff.
    'link set lo up',
    ...(s.ipv6 ? [`addr add ${s.ipv6.address}/${s.ipv6.prefix} dev ${s.ifname} nodad`] : []),
    `link set ${s.ifname} up`,
    `route add ${cidr} dev ${s.ifname}`,
  ];
  // DHCP: a route for the limited broadcast, or the DISCOVER has nowhere to go.
  if (s.dhcp) lines.push(`route add 255.255.255.255/32 dev ${s.ifname}`);
  await ip(['-batch', '-'], `${lines.join('\n')}\n`);
  // One ARP request per address, no retries: the rate is what it says, and a
  // block is read long before the kernel's 1 s retry would go out anyway.
  sysctl(`net/ipv4/neigh/${s.ifname}/mcast_solicit`, '1');
  sysctl(`net/ipv4/neigh/${s.ifname}/app_solicit`, '0');
}

// ------------------------------------------------------------------ sweep

interface Waiting {
  block: SweepBlock;
  size: number;
  /** When its last probe was written. */
  doneAt: number;
}

async function sweep(s: WorkerStart): Promise<LiveHost[]> {
  const { first, last, count } = sweepRange(s.base, s.prefix);
  const batch = startProbeBatch();
  const pacer = new SweepPacer(s, sweepBlocks(first, last, s.blockSize));
  const found = new Map<string, string>();
  let lastProgress = 0;
  const t0 = performance.now();

  for (;;) {
    const errors = batch.errors();
    if (errors) throw new Error(`the neighbour probes failed: ${errors.trim().split('\n').slice(0, 3).join('; ')}`);
    pacer.admit();
    let now = performance.now();
    batch.write(pacer.probesDue(now, probesAllowed(s.rate, now - t0)));

    now = performance.now();
    const head = pacer.waiting[0];
    if (head && now - head.doneAt >= s.answerWindowMs) {
      const readAt = performance.now();
      for (const h of answeredNeighbours(await ip(['-json', 'neigh', 'show', 'dev', s.ifname]))) found.set(h.address, h.mac);
      batch.write(pacer.flushesDue(readAt));
      if (pacer.finished || performance.now() - lastProgress > 100) {
        lastProgress = performance.now();
        say({ t: 'progress', sent: pacer.sent, total: count, found: found.size });
      }
      continue;
    }
    if (pacer.finished) break;
    await sleep(pacer.pauseMs(now));
  }
  const code = await batch.end();
  const errors = batch.errors();
  if (errors || (code !== 0 && code !== null)) throw new Error(`the neighbour probes failed: ${errors.trim() || `ip exited with ${code}`}`);
  return sortByAddress([...found].map(([address, mac]) => ({ address, mac })));
}

/** The long-lived `ip -batch` the probe and flush lines are written to. */
interface ProbeBatch {
  write(lines: string[]): void;
  /** What ip wrote on stderr so far (its first 4000 characters or so). */
  errors(): string;
  /** Closes its input; resolves with its exit code. */
  end(): Promise<number | null>;
}

// One long-lived `ip -batch` takes the probe and flush lines as they are
// paced out; -force: one refused line must not stop the rest.
function startProbeBatch(): ProbeBatch {
  const batch: ChildProcess = spawn('ip', ['-force', '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let batchErrors = '';
  batch.stderr!.setEncoding('utf8');
  batch.stderr!.on('data', (d: string) => {
    if (batchErrors.length < 4000) batchErrors += d;
  });
  const batchExit = new Promise<number | null>((resolve) => batch.on('close', (code) => resolve(code)));
  batch.stdin!.on('error', () => undefined); // reported through batchErrors / the exit code
  return {
    write(lines: string[]): void {
      if (lines.length > 0) batch.stdin!.write(`${lines.join('\n')}\n`);
    },
    errors: () => batchErrors,
    end(): Promise<number | null> {
      batch.stdin!.end();
      return batchExit;
    },
  };
}

/**
 * What the sweep sends when: blocks of addresses are started while their entries fit under the
 * in-flight limit, probed at the rate allowed, and flushed once their answer window has passed.
 */
class SweepPacer {
  /** Blocks whose last probe was written, oldest first: their answers are read, then they are flushed. */
  readonly waiting: Waiting[] = [];
  /** Probes written so far. */
  sent = 0;
  private current: { block: SweepBlock; next: number } | undefined;
  private reserved = 0; // addresses of blocks started and not yet flushed
  private more = true;

  constructor(
    private readonly s: WorkerStart,
    private readonly blocks: Generator<SweepBlock>,
  ) {}

  /** Every block probed and flushed. */
  get finished(): boolean {
    return !this.current && !this.more && this.waiting.length === 0;
  }

  /** A new block only when its entries fit under the in-flight limit (or nothing is in flight). */
  admit(): void {
    while (!this.current && this.more && (this.reserved === 0 || this.reserved + this.s.blockSize <= this.s.maxInFlight)) this.more = this.startBlock();
  }

  /** The probe lines that may go at `now`, when `allowed` probes in all may have gone since the start. */
  probesDue(now: number, allowed: number): string[] {
    let allowance = allowed - this.sent;
    const lines: string[] = [];
    while (allowance > 0 && this.current) {
      lines.push(resolveLine(this.current.next, this.s.ifname));
      this.current.next += 1;
      this.sent += 1;
      allowance -= 1;
      if (this.current.next > this.current.block.last) {
        this.waiting.push({ block: this.current.block, size: this.current.block.last - this.current.block.first + 1, doneAt: now });
        this.current = undefined;
        this.admit();
      }
    }
    return lines;
  }

  /** The flush lines of the blocks whose answer window had passed when the answers were read (`readAt`). */
  flushesDue(readAt: number): string[] {
    const flushes: string[] = [];
    while (this.waiting[0] && readAt - this.waiting[0].doneAt >= this.s.answerWindowMs) {
      const w = this.waiting.shift()!;
      flushes.push(flushLine(w.block, this.s.ifname));
      this.reserved -= w.size;
    }
    return flushes;
  }

  /** How long to sleep: until the next probe may go or the oldest block is due, in 1–20 ms steps. */
  pauseMs(now: number): number {
    const head = this.waiting[0];
    const untilDue = head ? head.doneAt + this.s.answerWindowMs - now : Infinity;
    const untilSend = this.current ? 1000 / this.s.rate : Infinity;
    return Math.min(20, Math.max(1, Math.min(untilDue, untilSend)));
  }

  private startBlock(): boolean {
    const n = this.blocks.next();
    if (n.done) return false;
    this.current = { block: n.value, next: n.value.first };
    this.reserved += n.value.last - n.value.first + 1;
    return true;
  }
}

// ------------------------------------------------------------------- IPv6

/** Runs a program to its end (at most `timeoutMs`): exit code and stderr; code -1 when it could not start. */
function runQuiet(file: string, args: string[], timeoutMs: number): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', timeout: timeoutMs }, (err, _stdout, stderr) => {
      const e = err as (Error & { code?: number | string }) | null;
      if (!e) resolve({ code: 0, stderr });
      else resolve({ code: typeof e.code === 'number' ? e.code : -1, stderr: (stderr || e.message).trim() });
    });
  });
}

/**
 * One echo to ff02::1 from our temporary address, then, after the window,
 * every IPv6 neighbour our kernel learnt a MAC for (neighbours6.ts says why
 * that is the set of responders). A missing or failing ping program is not
 * the scan's end: the IPv4 results stand, and the CLI reports why IPv6 has none.
 */
async function neighbours6(s: WorkerStart): Promise<WorkerResult['ipv6']> {
  const v6 = s.ipv6!;
  const t0 = performance.now();
  const tried: string[] = [];
  let sent: string | undefined;
  for (const program of ['iputils', 'busybox'] as const) {
    const { file, args } = allNodesPing(program, s.ifname);
    const r = await runQuiet(file, args, 3_000);
    // 0: at least one answer came back (our own, looped back, always does once the request has left).
    if (r.code === 0) {
      sent = `${file} ${args.join(' ')}`;
      break;
    }
    tried.push(`${file}: ${r.code === -1 ? r.stderr : `exit ${r.code}${r.stderr ? `, ${r.stderr.split('\n').slice(-1)[0]}` : ''}`}`);
  }
  if (!sent) return { failure: `no ping program could send the echo to ff02::1 (${tried.join('; ')}); install iputils-ping` };
  await sleep(v6.windowMs - (performance.now() - t0));
  return { answered: answeredNeighbours6(await ip(['-json', '-6', 'neigh', 'show', 'dev', s.ifname])), ping: sent };
}

// --------------------------------------------------------------- re-probe

/** Asks just `s.reprobe` again (reprobe.ts) and returns those that answered; the kernel repeats unanswered requests. */
async function reprobe(s: WorkerStart): Promise<LiveHost[]> {
  const targets = s.reprobe ?? [];
  for (const [path, value] of reprobeSysctls(s.ifname, s.ipv6 !== undefined)) sysctl(path, value);
  // Neighbour solicitations go out only from a link-local address (reprobe.ts: probeLinkLocal).
  const linkLocal = s.ipv6 && targets.some((t) => t.includes(':')) ? [`addr add ${probeLinkLocal(randomBytes(8))}/64 dev ${s.ifname} nodad`] : [];
  await ip(['-force', '-batch', '-'], `${[...linkLocal, ...reprobeLines(targets, s.ifname)].join('\n')}\n`);
  const t0 = performance.now();
  for (;;) {
    await sleep(20);
    const progress = reprobeProgress(await ip(['-json', 'neigh', 'show', 'dev', s.ifname]), targets);
    if (progress.pending.length === 0 || performance.now() - t0 > REPROBE_DEADLINE_MS) return progress.answered;
  }
}

// ------------------------------------------------------------------- DHCP

async function dhcpProbe(s: WorkerStart): Promise<{ offers: DhcpOfferSeen[]; discovers: number }> {
  const socket = dgram.createSocket({ type: 'udp4' });
  const clients: DhcpClient[] = [];
  const sentAt: number[] = [];
  const firstOfferAt: (number | undefined)[] = [];
  const offers: DhcpOfferSeen[] = [];
  let failure: Error | undefined;
  let t0 = 0;
  socket.on('error', (e) => (failure ??= e));
  socket.on('message', (msg, rinfo) => {
    // Anything can arrive on port 68: offerFrom never throws and keeps only OFFERs to our own clients.
    const o = offerFrom(msg, rinfo.address, clients);
    if (!o) return;
    offers.push(o);
    const k = clients.findIndex((c) => c.mac === o.clientMac);
    if (k >= 0 && firstOfferAt[k] === undefined) firstOfferAt[k] = performance.now() - t0;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(DHCP_CLIENT_PORT, '0.0.0.0', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.setBroadcast(true);
  t0 = performance.now();
  const schedule = { clients: s.dhcpClients, spacingMs: s.dhcpSpacingMs, waitMs: s.dhcpWaitMs };
  // Until the wait is over: send the next DISCOVER when nextDiscoverAt says so (dhcp-offers.ts: one at a time,
  // never queueing phantom clients at a server that ping-checks), and collect every OFFER meanwhile.
  for (;;) {
    const now = performance.now() - t0;
    if (now >= s.dhcpWaitMs || failure) break;
    const at = nextDiscoverAt(sentAt, firstOfferAt, schedule);
    if (at !== undefined && now >= at) {
      const c = clientFromRandom(randomBytes(10));
      clients.push(c);
      sentAt.push(now);
      await new Promise<void>((resolve, reject) =>
        socket.send(encodeDiscover({ xid: c.xid, clientMac: c.mac, broadcast: true }), DHCP_SERVER_PORT, '255.255.255.255', (e) => (e ? reject(e) : resolve())),
      );
      continue;
    }
    await sleep(Math.min(10, s.dhcpWaitMs - now, at !== undefined ? at - now : Infinity));
  }
  socket.close();
  if (failure) throw failure;
  return { offers, discovers: clients.length };
}

// ------------------------------------------------------------------- main

async function main(): Promise<void> {
  // Before the probe interface arrives, so that it is born with them:
  // no IPv6 at all (no link-local address, no router or neighbour
  // solicitations from the probe), no reverse-path filter (the OFFERs come
  // from wherever the server is).
  sysctl('net/ipv6/conf/all/disable_ipv6', '1');
  sysctl('net/ipv6/conf/default/disable_ipv6', '1');
  sysctl('net/ipv4/conf/all/rp_filter', '0');
  sysctl('net/ipv4/conf/default/rp_filter', '0');
  // For when IPv6 neighbours are asked: the probe interface is then switched
  // on for IPv6 alone (setUp), and these make it arrive with no link-local
  // address, no duplicate detection and no router solicitation.
  for (const [path, value] of IPV6_DEFAULTS) sysctl(path, value);

  const lines = createInterface({ input: process.stdin });
  const start = new Promise<WorkerStart>((resolve) => {
    lines.once('line', (l) => resolve(JSON.parse(l) as WorkerStart));
  });
  // The CLI went away (crash, Ctrl-C): stop at once; the namespace goes with us.
  lines.on('close', () => process.exit(3));
  say({ t: 'ready' });
  const s = await start;
  if (s.t !== 'start') throw new Error(`unexpected message ${JSON.stringify(s)}`);

  const timings: Record<string, number> = {};
  const t0 = performance.now();
  await setUp(s);
  timings.setup = Math.round(performance.now() - t0);
  const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await f();
    } finally {
      timings[name] = Math.round(performance.now() - t);
    }
  };
  if (s.reprobe) {
    const reprobed = await timed('reprobe', () => reprobe(s));
    say({ t: 'result', timings, reprobed });
    return;
  }
  // All three at once: the IPv6 echo costs no time next to the sweep.
  const [live, dhcp, ipv6] = await Promise.all([
    s.live ? timed('live', () => sweep(s)) : undefined,
    s.dhcp ? timed('dhcp', () => dhcpProbe(s)) : undefined,
    s.ipv6 ? timed('ipv6', () => neighbours6(s)) : undefined,
  ]);
  const result: WorkerResult = { t: 'result', timings };
  if (live) result.live = live;
  if (dhcp) result.dhcp = dhcp;
  if (ipv6) result.ipv6 = ipv6;
  say(result);
}

main().then(
  () => process.stdout.write('', () => process.exit(0)),
  (e: unknown) => {
    say({ t: 'error', message: e instanceof Error ? e.message : String(e) });
    process.stdout.write('', () => process.exit(1));
  },
);
