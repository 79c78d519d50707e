/**
 * The LAN scan that plan and apply look at before they take addresses:
 * decides whether one is needed, takes a fresh one from the cache or runs it,
 * and hands the planner what it saw (facts.lan).
 *
 * - Needed only for networks that will place addresses (src/plan/scan-targets.ts);
 *   never with --no-scan (then the cache is not read either).
 * - A scan younger than SCAN_CACHE_MAX_AGE_MS of the same parent and subnet is
 *   used as it is, so plan then apply (or scan then apply) probes once. The
 *   cache is readable without root, so a plain user's plan uses a root scan.
 * - Without CAP_NET_ADMIN there is no scan (it needs a namespace and a macvlan):
 *   the plan goes on, with a LAN_NOT_SCANNED warning that says why.
 * - A scan that fails for another reason is a warning for plan, and stops
 *   apply (`strict`): apply must not take addresses it was meant to check.
 */
import type { DesiredNetwork } from '../model/desired.js';
import { MacvlanError } from '../model/errors.js';
import type { HostFacts, LanFacts } from '../model/facts.js';
import type { LanScan } from '../model/lan.js';
import { type ScanTarget, scanTargets } from '../plan/scan-targets.js';
import { hasNetAdmin } from '../system/capabilities.js';
import { SCAN_CACHE_MAX_AGE_MS, freshScan, writeScanCache } from '../system/scan-cache.js';
import type { ScanLanOptions } from '../probe/lan-scan.js';
import { log as stderrLog } from './output.js';

/** What plan and apply ask of the scanner: its own options, without the progress and facts extras. */
export type ScanRequest = Pick<ScanLanOptions, 'parent' | 'subnet' | 'subnet6' | 'rate' | 'live' | 'dhcp' | 'dhcpWaitMs'>;

export type ScanLan = (req: ScanRequest) => Promise<LanScan>;

const lazyScanLan: ScanLan = async (req) => (await import('../probe/lan-scan.js')).scanLan(req);

export interface LanForPlanOptions {
  root: string;
  /** false with --no-scan. */
  scan?: boolean;
  /** apply: a scan that fails (other than for lack of privilege) stops the command instead of warning. */
  strict?: boolean;
  /** The scanner; default src/probe's scanLan, loaded only when a scan is really needed. Tests pass their own. */
  scanLan?: ScanLan;
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

type Outcome = { scan: LanScan } | { skipped: LanFacts['skipped'][number] };

async function scanOne(t: ScanTarget, opts: LanForPlanOptions, now: Date): Promise<Outcome> {
  // A network with an IPv6 part needs its IPv6 neighbours asked: a cached scan without them (or from before they were) is not enough.
  const cached = freshScan(opts.root, t.parent, now, { subnet: t.subnet, ...(t.subnet6 ? { subnet6: t.subnet6 } : {}), complete: true, maxAgeMs: opts.maxAgeMs ?? SCAN_CACHE_MAX_AGE_MS });
  if (cached) return { scan: cached };
  const log = opts.log ?? stderrLog;
  if (!(opts.privileged ?? hasNetAdmin)()) {
    return { skipped: { parent: t.parent, subnet: t.subnet, reason: 'scanning needs root (CAP_NET_ADMIN), and this process does not have it', fix: NOT_ROOT_FIX } };
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
  log(`Scanning ${t.parent} (${t.subnet6 ? `${t.subnet}, ${t.subnet6}` : t.subnet}) for live hosts and DHCP servers before placing ${t.networks.join(', ')} (a few seconds; --no-scan skips it)…`);
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
  try {
    writeScanCache(opts.root, scan);
  } catch (e) {
    log(`warning: could not cache the scan of ${t.parent}: ${(e as Error).message}`);
  }
  return { scan };
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
  const outcomes = await Promise.all(targets.map((t) => scanOne(t, opts, now)));
  const lan: LanFacts = { scans: [], skipped: [] };
  for (const o of outcomes) {
    if ('scan' in o) lan.scans.push(o.scan);
    else lan.skipped.push(o.skipped);
  }
  return { ...facts, lan };
}
