/**
 * Estimating a DHCP server's pool from the addresses it offered. Pure.
 *
 * Two kinds of server are common:
 * - dnsmasq (so Pi-hole and OpenWrt) and busybox udhcpd hash the client MAC
 *   into the range, so offers to random MACs land uniformly over the pool
 *   ("spread"). The pool's ends are then estimated like the German tank
 *   problem: the k offers cut the pool into k+1 pieces of about the same
 *   size, so the unseen tails below the lowest and above the highest offer
 *   are each about one mean spacing (max−min)/(k−1). A point estimate misses
 *   the true end about half the time, so the estimate reaches further: by
 *   t·(max−min) on each side, with t chosen so that a uniformly used pool is
 *   inside the estimate with probability POOL_COVERAGE (see tailFactor).
 * - ISC dhcpd, Kea and Windows hand out the lowest (or highest) free address,
 *   so offers come in a row ("sequential"): they show where the server is
 *   handing out now, not how far its pool reaches. Such an estimate (and one
 *   from a single offer) is low-confidence and reaches ASSUMED_REACH-ish
 *   addresses either way; the user is told to name the pool with --avoid.
 *
 * The estimate is clipped to the subnet's usable addresses.
 */
import type { DhcpOfferSeen, DhcpPoolEstimate } from '../model/lan.js';
import { type Cidr, type Family, cidrContains, cidrLast, formatValue, parseAddress, parseCidr } from '../net/address.js';
import type { Interval } from '../net/intervals.js';

/** Probability that the estimate holds the whole of a uniformly used pool (measured in test/unit/dhcp-pool.property.test.ts). */
export const POOL_COVERAGE = 0.8;

/** Offers at most this far apart on average look sequential (an allocator that counts), not hashed. */
const SEQUENTIAL_MEAN_GAP = 2;

export type OfferPattern = 'spread' | 'sequential' | 'single';

export interface PoolInterval {
  /** The estimated pool, clipped to the subnet's usable addresses. */
  interval: Interval;
  /** Lowest and highest distinct offer. */
  observed: Interval;
  /** Distinct offered addresses. */
  offers: number;
  pattern: OfferPattern;
  /** Mean spacing between neighbouring offers ((max−min)/(k−1)); 0 with one offer. */
  meanGap: number;
  /** How far the estimate reaches past the observed offers on each side, before clipping. */
  reach: bigint;
  confidence: DhcpPoolEstimate['confidence'];
}

/**
 * The factor t such that [min − t·R, max + t·R] (R = max − min) holds the
 * whole pool with probability `coverage` when k offers are uniform over it.
 *
 * For k uniform points the lower tail L, the span R and the upper tail U,
 * as fractions of the pool, are Dirichlet(1, k−1, 1). Integrating its density
 * k(k−1)·r^(k−2) gives P(L > tR) = (1+t)^−(k−1) and P(L > tR and U > tR) =
 * (1+2t)^−(k−1), so the chance that either tail is missed is
 * 2(1+t)^−(k−1) − (1+2t)^−(k−1), which falls with t; solved by bisection.
 * Exact for a continuous pool; a discrete pool is covered slightly more often.
 */
export function tailFactor(k: number, coverage = POOL_COVERAGE): number {
  if (k < 2) throw new RangeError('tailFactor needs at least two offers');
  const n = k - 1;
  const miss = (t: number) => 2 * (1 + t) ** -n - (1 + 2 * t) ** -n;
  const target = 1 - coverage;
  let lo = 0;
  let hi = 1;
  while (miss(hi) > target) hi *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (miss(mid) > target) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Addresses a host may have in a subnet: without the network and broadcast addresses of an IPv4 /30 or larger. */
export function usableInterval(subnet: Cidr): Interval {
  const last = cidrLast(subnet);
  if (subnet.family === 4 && subnet.prefix <= 30) return { start: subnet.base + 1n, end: last - 1n };
  return { start: subnet.base, end: last };
}

/**
 * How far an estimate without spread reaches either way: a quarter of the
 * usable addresses, at least 16 and at most 256 (a /24 gets 63). Arbitrary
 * by nature (nothing was seen of the pool's size); chosen so that a typical
 * home pool of 50–150 addresses next to the offers is mostly covered while a
 * /24 keeps room for an ip-range on the far side.
 */
export function assumedReach(bounds: Interval): bigint {
  const size = bounds.end - bounds.start + 1n;
  const quarter = size / 4n;
  return quarter < 16n ? 16n : quarter > 256n ? 256n : quarter;
}

function clip(iv: Interval, bounds: Interval): Interval {
  return { start: iv.start < bounds.start ? bounds.start : iv.start, end: iv.end > bounds.end ? bounds.end : iv.end };
}

/** The numeric core: distinct offered values (any order, duplicates allowed) inside `bounds`. */
export function estimatePoolInterval(values: readonly bigint[], bounds: Interval, coverage = POOL_COVERAGE): PoolInterval | undefined {
  const distinct = [...new Set(values.filter((v) => v >= bounds.start && v <= bounds.end))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const k = distinct.length;
  if (k === 0) return undefined;
  const observed = { start: distinct[0]!, end: distinct[k - 1]! };
  const span = observed.end - observed.start;
  const meanGap = k > 1 ? Number(span) / (k - 1) : 0;
  let pattern: OfferPattern;
  let reach: bigint;
  if (k === 1) {
    pattern = 'single';
    reach = assumedReach(bounds);
  } else if (meanGap <= SEQUENTIAL_MEAN_GAP) {
    pattern = 'sequential';
    reach = assumedReach(bounds);
  } else {
    pattern = 'spread';
    reach = BigInt(Math.ceil(tailFactor(k, coverage) * Number(span)));
  }
  const confidence: PoolInterval['confidence'] = pattern !== 'spread' || k <= 2 ? 'low' : k < 6 ? 'medium' : 'high';
  return {
    interval: clip({ start: observed.start - reach, end: observed.end + reach }, bounds),
    observed,
    offers: k,
    pattern,
    meanGap,
    reach,
    confidence,
  };
}

function range(family: Family, iv: Interval): string {
  return iv.start === iv.end ? formatValue(family, iv.start) : `${formatValue(family, iv.start)}–${formatValue(family, iv.end)}`;
}

/** The one line for people. `clients` is how many offers there were in all (repeats included). */
export function explainPool(family: Family, p: PoolInterval, clients = p.offers): string {
  const est = range(family, p.interval);
  if (p.pattern === 'single') {
    const seen = clients > 1 ? `the same address ${formatValue(family, p.observed.start)} offered to all ${clients} clients` : `one offer (${formatValue(family, p.observed.start)})`;
    return `${seen}: how far the pool reaches is unknown; assumed within ${est} (name the real pool with --avoid)`;
  }
  if (p.pattern === 'sequential') {
    return `${p.offers} offers in a row at ${range(family, p.observed)}: this server hands out addresses in order, so how far its pool reaches is unknown; assumed within ${est} (name the real pool with --avoid)`;
  }
  return `${p.offers} offers spread over ${range(family, p.observed)}, about ${Math.round(p.meanGap)} apart: the pool is probably within ${est}`;
}

export interface ServerPool {
  /** The server identifier of the server that made the offers. */
  server: string;
  pool: DhcpPoolEstimate;
  /** The numbers behind it (the planner's margin uses meanGap). */
  detail: PoolInterval;
}

/**
 * One estimate per DHCP server, from its offers inside `subnet` (offers of a
 * server for another subnet say nothing about this one). Servers with the
 * most offers first.
 */
export function estimateDhcpPools(offers: readonly DhcpOfferSeen[], subnet: string | Cidr): ServerPool[] {
  const net = typeof subnet === 'string' ? parseCidr(subnet) : subnet;
  if (net.family !== 4) return [];
  const bounds = usableInterval(net);
  const byServer = new Map<string, bigint[]>();
  for (const o of offers) {
    let value: bigint;
    try {
      const a = parseAddress(o.address);
      if (!cidrContains(net, a)) continue;
      value = a.value;
    } catch {
      continue; // a malformed offer is the scanner's to report, not a pool
    }
    const list = byServer.get(o.server) ?? [];
    list.push(value);
    byServer.set(o.server, list);
  }
  const out: ServerPool[] = [];
  for (const [server, values] of byServer) {
    const detail = estimatePoolInterval(values, bounds);
    if (!detail) continue;
    out.push({
      server,
      detail,
      pool: {
        first: formatValue(4, detail.interval.start),
        last: formatValue(4, detail.interval.end),
        confidence: detail.confidence,
        explanation: explainPool(4, detail, values.length),
      },
    });
  }
  return out.sort((a, b) => b.detail.offers - a.detail.offers || (a.server < b.server ? -1 : 1));
}

/** The estimate for `LanScan.dhcp.pool`: the pool of the server that made the most offers in the subnet. */
export function estimateDhcpPool(offers: readonly DhcpOfferSeen[], subnet: string | Cidr): DhcpPoolEstimate | undefined {
  return estimateDhcpPools(offers, subnet)[0]?.pool;
}
