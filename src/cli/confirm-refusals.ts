/**
 * Plan on the LAN as it is now: a refusal never rests on a cached scan alone.
 *
 * The planner is pure and refuses an explicit ip-range or host address that
 * holds what the scan saw (RANGE_CONFLICT, with the addresses in its
 * details). When those facts come from the scan cache they may be minutes
 * old: the squatter may have left. So before such a refusal stands:
 *
 * - live hosts it names (IPv4 or IPv6) are probed again, live, from the same
 *   throwaway namespace the scan uses (src/probe/reprobe.ts: milliseconds for
 *   a host that answers, about half a second for one that is gone); those
 *   that no longer answer are dropped from the facts and from the cache, and
 *   the plan is made again;
 * - DHCP offers or an estimated pool it names are confirmed by a whole new
 *   scan. A DHCP server cannot be asked about one address: the only live
 *   evidence is a new round of offers (about 4 s, the sweep runs meanwhile),
 *   which is worth it before refusing, and its offers replace the old ones;
 * - a refusal from a scan this command just took stands as it is.
 *
 * Without root nothing can be re-probed: the refusal stands and says it
 * comes from a cached scan, how old, and that apply re-checks it.
 */
import type { DesiredNetwork } from '../model/desired.js';
import { MacvlanError } from '../model/errors.js';
import type { HostFacts, LanFacts } from '../model/facts.js';
import type { LanScan, LanScanSource } from '../model/lan.js';
import type { Plan } from '../model/plan.js';
import { parseAddress } from '../net/address.js';
import { computePlan } from '../plan/compute-plan.js';
import { scanFactsNamed, withoutHosts } from '../plan/lan-view.js';
import { scanTargets } from '../gather/scan-targets.js';
import { hasNetAdmin } from '../system/capabilities.js';
import { readCachedScan, writeScanCache } from '../gather/scan-cache.js';
import { type LanForPlanOptions, lanForPlan, lazyReprobeLan, scanTarget } from '../gather/lan-for-plan.js';
import { log as stderrLog } from './output.js';
import { scanAge } from '../present/plan.js';

export interface PlanOnLanOptions extends LanForPlanOptions {
  /** --force: the planner takes what the scan saw with a warning, so nothing is refused on it. */
  force?: boolean;
  /** --replace: a same-named Docker network with other settings is planned as a replace (src/plan/compute-plan.ts). */
  replace?: boolean;
}

/** The same address, whichever way it is written. */
function key(address: string): string {
  try {
    const a = parseAddress(address);
    return `${a.family}:${a.value}`;
  } catch {
    return address.toLowerCase();
  }
}

/** Gather the LAN (lanForPlan), plan, and confirm live any refusal that rests on a cached scan. */
export async function planOnLan(desired: DesiredNetwork[], gathered: HostFacts, opts: PlanOnLanOptions): Promise<{ plan: Plan; facts: HostFacts }> {
  return planConfirmingRefusals(desired, await lanForPlan(desired, gathered, opts), opts);
}

export async function planConfirmingRefusals(desired: DesiredNetwork[], facts: HostFacts, opts: PlanOnLanOptions): Promise<{ plan: Plan; facts: HostFacts }> {
  const log = opts.log ?? stderrLog;
  const privileged = (opts.privileged ?? hasNetAdmin)();
  /** Per parent: why its cached facts could not be confirmed (shown with the refusal). */
  const unconfirmed = new Map<string, string>();
  /** `parent key(address)` already re-probed by this command: asked once, never twice. */
  const rechecked = new Set<string>();
  let current = facts;
  for (;;) {
    try {
      const plan = computePlan(desired, current, { force: opts.force === true, replace: opts.replace === true });
      if (current.lan?.sources?.length) plan.lan = current.lan.sources;
      return { plan, facts: current };
    } catch (e) {
      if (!(e instanceof MacvlanError)) throw e;
      const lan = current.lan;
      let next: LanFacts | undefined;
      for (const named of scanFactsNamed(e)) {
        const i = lan?.sources?.findIndex((s) => s.parent === named.parent) ?? -1;
        if (!lan || i < 0) continue;
        const source = lan.sources![i]!;
        const scan = lan.scans.find((s) => s.parent === named.parent);
        if (!scan || source.origin !== 'cache') continue; // a scan taken just now is live enough
        if (!privileged) {
          unconfirmed.set(named.parent, 're-probing needs root; apply re-checks them before it refuses');
          continue;
        }
        next ??= { ...lan, scans: [...lan.scans], sources: [...lan.sources!] };
        if (named.dhcp) {
          // Offers and pools are confirmed by a new round of offers only: the whole scan again (the sweep costs nothing next to the DHCP wait).
          const target = scanTargets(desired, { ...current, lan: undefined }).find((t) => t.parent === named.parent);
          if (!target) continue;
          const o = await scanTarget(target, opts, 'a refusal named DHCP offers or the DHCP pool of a cached scan, which only a new round of offers confirms');
          if ('skipped' in o) {
            unconfirmed.set(named.parent, `scanning again failed: ${o.skipped.reason}`);
            continue;
          }
          next.scans[next.scans.indexOf(scan)] = o.scan;
          next.sources![i] = o.source;
          continue;
        }
        const ask = named.addresses.filter((a) => !rechecked.has(`${named.parent} ${key(a)}`));
        if (ask.length === 0) continue;
        for (const a of ask) rechecked.add(`${named.parent} ${key(a)}`);
        log(`The refusal rests on a scan of ${named.parent} cached ${scanAge(source.ageSeconds)} ago: asking ${ask.join(', ')} again…`);
        let answered: Set<string>;
        let at: string;
        try {
          const r = await (opts.reprobeLan ?? lazyReprobeLan)({ parent: named.parent, subnet: scan.subnet, ...(scan.subnet6 ? { subnet6: scan.subnet6 } : {}), addresses: ask });
          answered = new Set(r.answered.map((h) => key(h.address)));
          at = r.at;
        } catch (err) {
          unconfirmed.set(named.parent, `re-probing them failed: ${(err as Error).message}`);
          continue;
        }
        const gone = ask.filter((a) => !answered.has(key(a)));
        const still = ask.filter((a) => answered.has(key(a)));
        const before = source.reprobed;
        next.sources![i] = {
          ...source,
          reprobed: { at, answered: [...(before?.answered ?? []), ...still], gone: [...(before?.gone ?? []), ...gone] },
        };
        if (gone.length === 0) continue;
        const dropped = withoutHosts(scan, gone);
        next.scans[next.scans.indexOf(scan)] = dropped;
        keepInCache(opts.root, dropped, log);
      }
      const progressed = next && next.scans.some((s, k) => s !== lan!.scans[k]);
      if (!progressed) throw annotated(e, next ?? lan, unconfirmed, scanFactsNamed(e).map((n) => n.parent));
      current = { ...current, lan: next };
    }
  }
}

/** The cache without the hosts that are gone, still marked with the LAN it was taken on. */
function keepInCache(root: string, scan: LanScan, log: (line: string) => void): void {
  try {
    const c = readCachedScan(root, scan.parent);
    if (c && c.scan.scannedAt === scan.scannedAt) writeScanCache(root, scan, c.lan);
  } catch (e) {
    log(`warning: could not update the cached scan of ${scan.parent}: ${(e as Error).message}`);
  }
}

/** The refusal, saying where its LAN facts came from: a scan just taken, or a cached one re-probed just now (or not, and why). */
function annotated(e: MacvlanError, lan: LanFacts | undefined, unconfirmed: Map<string, string>, parents: string[]): MacvlanError {
  const notes: string[] = [];
  const sources: LanScanSource[] = [];
  for (const p of parents) {
    const s = lan?.sources?.find((x) => x.parent === p);
    if (!s) continue;
    sources.push(s);
    if (s.origin === 'scan') {
      notes.push(`the LAN on ${p} was scanned just now${s.rescanReason ? ` (${s.rescanReason})` : ''}`);
      continue;
    }
    const parts = [`from a scan of ${p} cached ${scanAge(s.ageSeconds)} ago`];
    if (s.reprobed?.answered.length) parts.push(`re-probed just now: ${s.reprobed.answered.join(', ')} still answer${s.reprobed.answered.length === 1 ? 's' : ''}`);
    const why = unconfirmed.get(p);
    if (why) parts.push(`not re-checked: ${why}`);
    notes.push(parts.join('; '));
  }
  if (notes.length === 0) return e;
  return new MacvlanError(e.code, `${e.message} [${notes.join('. ')}; --rescan scans afresh]`, { ...e.details, lan: sources }, { cause: e.cause });
}
