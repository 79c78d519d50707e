/**
 * The LAN scan that plan and apply look at before they take addresses:
 * decides whether one is needed, takes a fresh one from the cache or runs it,
 * and hands the planner what it saw (facts.lan), saying where each scan came
 * from and how old it is (facts.lan.sources).
 *
 * - Needed only for networks that will place addresses (src/gather/scan-targets.ts);
 *   never with --no-scan (then the cache is not read either).
 * - A scan younger than SCAN_CACHE_MAX_AGE_MS of the same parent and subnet,
 *   taken on the same LAN (the gateway's MAC in the host's neighbour table, or
 *   without an entry its answer to one ARP probe, is the one the scan saw), is used as it is, so plan then apply (or scan then
 *   apply) probes once. --rescan never uses it. The cache is readable without
 *   root, so a plain user's plan uses a root scan.
 * - A refusal that rests on a cached scan is confirmed live before it stands
 *   (src/cli/confirm-refusals.ts).
 * - Without CAP_NET_ADMIN there is no scan (it needs a namespace and a macvlan):
 *   the plan goes on, with a LAN_NOT_SCANNED warning that says why.
 * - A scan that fails for another reason is a warning for plan, and stops
 *   apply (`strict`): apply must not take addresses it was meant to check.
 */
import type { DesiredNetwork } from '../model/desired.js';
import { MacvlanError } from '../model/errors.js';
import type { HostFacts, LanFacts } from '../model/facts.js';
import { type LanScan, type LanScanSource, scanAgeSeconds } from '../model/lan.js';
import { type ScanTarget, scanTargets } from './scan-targets.js';
import { hasNetAdmin } from '../system/capabilities.js';
import { neighbourMac as hostNeighbourMac } from './neighbour-table.js';
import { type FreshnessWants, SCAN_CACHE_MAX_AGE_MS, cachedScanFor, lanIdentityOf, readCachedScan, staleness, writeScanCache } from './scan-cache.js';
import type { ReprobeOptions, ReprobeResult, ScanLanOptions } from './lan-scan.js';

/** What plan and apply ask of the scanner: its own options, without the progress and facts extras. */
export type ScanRequest = Pick<ScanLanOptions, 'parent' | 'subnet' | 'subnet6' | 'rate' | 'live' | 'dhcp' | 'dhcpWaitMs'>;

export type ScanLan = (req: ScanRequest) => Promise<LanScan>;
export type ReprobeLan = (req: ReprobeOptions) => Promise<ReprobeResult>;

/** Progress goes to stderr unless the caller takes it: stdout is kept for the one result document. */
function logToStderr(message: string): void {
  process.stderr.write(`${message}\n`);
}

const lazyScanLan: ScanLan = async (req) => (await import('./lan-scan.js')).scanLan(req);
export const lazyReprobeLan: ReprobeLan = async (req) => (await import('./lan-scan.js')).reprobeLan(req);

export interface LanForPlanOptions {
  root: string;
  /** false with --no-scan. */
  scan?: boolean;
  /** --rescan: never use the cache; scan now. */
  rescan?: boolean;
  /** apply: a scan that fails (other than for lack of privilege) stops the command instead of warning. */
  strict?: boolean;
  /** The scanner; default src/probe's scanLan, loaded only when a scan is really needed. Tests pass their own. */
  scanLan?: ScanLan;
  /** The re-probe of the addresses a refusal names (src/cli/confirm-refusals.ts); default src/probe's reprobeLan. */
  reprobeLan?: ReprobeLan;
  /** The gateway's MAC in the host's neighbour table (default: `ip neigh`); tells one LAN from another. */
  neighbourMac?: (address: string, device: string) => Promise<string | undefined>;
  /** Defaults: the same as `macvlanctl scan`'s (2000 probes/s, 3.5 s for offers). */
  rate?: number;
  dhcpWaitMs?: number;
  maxAgeMs?: number;
  now?: () => Date;
  /** Whether this process may scan (default: CAP_NET_ADMIN in its effective set). */
  privileged?: () => boolean;
  log?: (line: string) => void;
}

export const PLAN_SCAN_DEFAULTS = { rate: 2000, dhcpWaitMs: 3500 } as const;

const NOT_ROOT_FIX =
  'run it as root (sudo) so the LAN is checked for live hosts and the DHCP pool, or run `sudo macvlanctl scan` first (plan uses a scan for 5 minutes); name the pool with --avoid FIRST-LAST; --no-scan leaves the LAN unchecked without this warning';

type Outcome = { scan: LanScan; source: LanScanSource } | { skipped: LanFacts['skipped'][number] };

/**
 * Writes `scan` to the cache with the identity of the LAN it saw (the
 * gateway's MAC from the scan itself, else from the host's neighbour table).
 * A failure to write is logged, never fatal.
 */
export async function cacheScan(root: string, scan: LanScan, gateway: string, deps: { neighbourMac?: LanForPlanOptions['neighbourMac']; log?: (line: string) => void } = {}): Promise<void> {
  const log = deps.log ?? logToStderr;
  try {
    const heard = scan.live?.some((h) => h.address === gateway);
    const hostMac = heard ? undefined : await (deps.neighbourMac ?? hostNeighbourMac)(gateway, scan.parent);
    writeScanCache(root, scan, lanIdentityOf(scan, gateway, hostMac));
  } catch (e) {
    log(`warning: could not cache the scan of ${scan.parent}: ${(e as Error).message}`);
  }
}

/** A new scan of the target's LAN, cached; `why` says why the cache was not used (for the plan's `lan` line). */
export async function scanTarget(t: ScanTarget, opts: LanForPlanOptions, why: string | undefined): Promise<Outcome> {
  const log = opts.log ?? logToStderr;
  if (!(opts.privileged ?? hasNetAdmin)()) {
    const reason = `scanning needs root (CAP_NET_ADMIN), and this process does not have it${why ? ` (and the cached scan was not used: ${why})` : ''}`;
    return { skipped: { parent: t.parent, subnet: t.subnet, reason, fix: NOT_ROOT_FIX } };
  }
  const req: ScanRequest = {
    parent: t.parent,
    subnet: t.subnet,
    ...(t.subnet6 ? { subnet6: t.subnet6 } : {}),
    rate: opts.rate ?? PLAN_SCAN_DEFAULTS.rate,
    live: true,
    dhcp: true,
    dhcpWaitMs: opts.dhcpWaitMs ?? PLAN_SCAN_DEFAULTS.dhcpWaitMs,
  };
  log(
    `Scanning ${t.parent} (${t.subnet6 ? `${t.subnet}, ${t.subnet6}` : t.subnet}) for live hosts and DHCP servers before placing ${t.networks.join(', ')} (a few seconds; --no-scan skips it)${why ? `; not the cached scan: ${why}` : ''}…`,
  );
  let scan: LanScan;
  try {
    scan = await (opts.scanLan ?? lazyScanLan)(req);
  } catch (e) {
    const err = e instanceof MacvlanError ? e : new MacvlanError('SYSTEM_ERROR', (e as Error)?.message ?? String(e));
    if (err.code === 'NOT_PERMITTED') return { skipped: { parent: t.parent, subnet: t.subnet, reason: err.message, fix: NOT_ROOT_FIX } };
    if (opts.strict) {
      throw new MacvlanError(err.code, `scan of the LAN on ${t.parent} failed: ${err.message}. Nothing was changed; run with --no-scan to go ahead without looking at the LAN`, {
        ...err.details,
        parent: t.parent,
      });
    }
    return { skipped: { parent: t.parent, subnet: t.subnet, reason: `the scan failed: ${err.message}`, fix: 'see `macvlanctl scan --parent ' + t.parent + '`; --no-scan skips it' } };
  }
  await cacheScan(opts.root, scan, t.gateway, { ...(opts.neighbourMac ? { neighbourMac: opts.neighbourMac } : {}), log });
  const source: LanScanSource = { parent: scan.parent, subnet: scan.subnet, origin: 'scan', scannedAt: scan.scannedAt, ageSeconds: 0, ...(why ? { rescanReason: why } : {}) };
  return { scan, source };
}

/** Whether the gateway was asked on the wire, and the MAC it answered with. */
type GatewayAnswer = { asked: boolean; mac?: string };

/**
 * The gateway's MAC asked on the wire, when the host's neighbour table has
 * none (a host that has not talked to its gateway lately): one ARP probe of
 * one address from the re-probe's throwaway namespace, milliseconds instead of
 * the seconds of a new scan. No MAC without root, when the gateway does not
 * answer, and when no answer could make the cache serve: none of this parent,
 * one too old, of another subnet or incomplete for `wants`, one taken with
 * another gateway address or without the gateway's MAC. Nothing is sent in
 * those last cases, nor without root (`asked` false).
 */
async function askGatewayMac(t: ScanTarget, opts: LanForPlanOptions, now: Date, wants: FreshnessWants): Promise<GatewayAnswer> {
  if (!(opts.privileged ?? hasNetAdmin)()) return { asked: false };
  const c = readCachedScan(opts.root, t.parent);
  if (!c || staleness(c.scan, now, wants) !== undefined || c.lan.gateway !== t.gateway || !c.lan.gatewayMac) return { asked: false };
  try {
    const r = await (opts.reprobeLan ?? lazyReprobeLan)({ parent: t.parent, subnet: t.subnet, addresses: [t.gateway] });
    const mac = r.answered.find((h) => h.address === t.gateway)?.mac;
    return { asked: true, ...(mac ? { mac } : {}) };
  } catch {
    return { asked: true }; // the cache is then not used, and the scan that follows says why
  }
}

async function scanOne(t: ScanTarget, opts: LanForPlanOptions, now: Date): Promise<Outcome> {
  if (opts.rescan) return scanTarget(t, opts, '--rescan');
  // A network with an IPv6 part needs its IPv6 neighbours asked: a cached scan without them (or from before they were) is not enough.
  const fresh: FreshnessWants = { subnet: t.subnet, ...(t.subnet6 ? { subnet6: t.subnet6 } : {}), complete: true, maxAgeMs: opts.maxAgeMs ?? SCAN_CACHE_MAX_AGE_MS };
  // Which LAN is the parent on now? The gateway's MAC as the host last resolved it (one `ip neigh` read, nothing on the wire),
  // else as the gateway answers one ARP probe, sent only when that answer could let the cache serve.
  const hostMac = await (opts.neighbourMac ?? hostNeighbourMac)(t.gateway, t.parent);
  const asked: GatewayAnswer = hostMac ? { asked: false } : await askGatewayMac(t, opts, now, fresh);
  const gatewayMac = hostMac ?? asked.mac;
  const lan = { subnet: t.subnet, gateway: t.gateway, ...(gatewayMac ? { gatewayMac } : {}) };
  const cached = cachedScanFor(opts.root, t.parent, now, { ...fresh, lan });
  if (cached && 'scan' in cached) {
    const s = cached.scan;
    return { scan: s, source: { parent: s.parent, subnet: s.subnet, origin: 'cache', scannedAt: s.scannedAt, ageSeconds: scanAgeSeconds(s, now) } };
  }
  // Asked, the cache was fresh and of this gateway: the unanswered probe is the only reason left.
  const why = asked.asked && !gatewayMac
    ? `the host's neighbour table has no MAC for the gateway ${t.gateway} and it did not answer an ARP probe, so it cannot tell whether this is the LAN the scan was taken on`
    : cached?.stale;
  return scanTarget(t, opts, why);
}

/**
 * The facts with `lan` filled in for the networks that need it; the facts
 * unchanged when nothing is to be placed or with --no-scan.
 */
export async function lanForPlan(desired: readonly DesiredNetwork[], facts: HostFacts, opts: LanForPlanOptions): Promise<HostFacts> {
  if (opts.scan === false) return facts;
  const targets = scanTargets(desired, facts);
  if (targets.length === 0) return facts;
  const now = (opts.now ?? (() => new Date()))();
  const outcomes = await Promise.all(targets.map((t) => (t.missing ? Promise.resolve<Outcome>({ skipped: missingParentSkip(t) }) : scanOne(t, opts, now))));
  const lan: LanFacts = { scans: [], skipped: [], sources: [] };
  for (const o of outcomes) {
    if ('scan' in o) {
      lan.scans.push(o.scan);
      lan.sources!.push(o.source);
    } else lan.skipped.push(o.skipped);
  }
  return { ...facts, lan };
}

/** A parent that does not exist yet (a VLAN sub-interface Docker creates with the network) has no LAN to scan before apply. */
function missingParentSkip(t: ScanTarget): LanFacts['skipped'][number] {
  return {
    parent: t.parent,
    subnet: t.subnet,
    reason: `${t.parent} does not exist yet (Docker creates the VLAN sub-interface with the network), so its LAN cannot be scanned before apply`,
    fix: `name the DHCP pool with --avoid FIRST-LAST; after apply, sudo macvlanctl doctor checks the LAN on ${t.parent}`,
  };
}
