/**
 * Address sets as sorted, merged lists of inclusive BigInt intervals. One
 * implementation for IPv4 and IPv6: the family only matters for the width.
 */
import { BITS, type Cidr, type Family, cidrLast, hostMask } from './address.js';

export type { Interval } from '../model/address.js';
import type { Interval } from '../model/address.js';

export function cidrToInterval(c: Cidr): Interval {
  return { start: c.base, end: cidrLast(c) };
}

/** Sort and merge overlapping or adjacent intervals. */
export function normalize(list: readonly Interval[]): Interval[] {
  const sorted = [...list].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: Interval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    if (last && iv.start <= last.end + 1n) {
      if (iv.end > last.end) out[out.length - 1] = { start: last.start, end: iv.end };
    } else {
      out.push(iv);
    }
  }
  return out;
}

export function overlaps(a: Interval, b: Interval): boolean {
  return a.start <= b.end && b.start <= a.end;
}

export function containsInterval(outer: Interval, inner: Interval): boolean {
  return inner.start >= outer.start && inner.end <= outer.end;
}

/** `from` minus everything in `remove`. */
export function subtract(from: readonly Interval[], remove: readonly Interval[]): Interval[] {
  const rm = normalize(remove);
  const out: Interval[] = [];
  for (const iv of normalize(from)) {
    let cursor = iv.start;
    for (const r of rm) {
      if (r.end < cursor || r.start > iv.end) continue;
      if (r.start > cursor) out.push({ start: cursor, end: r.start - 1n });
      cursor = r.end + 1n;
      if (cursor > iv.end) break;
    }
    if (cursor <= iv.end) out.push({ start: cursor, end: iv.end });
  }
  return out;
}

export function intersect(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const x of normalize(a)) {
    for (const y of normalize(b)) {
      const start = x.start > y.start ? x.start : y.start;
      const end = x.end < y.end ? x.end : y.end;
      if (start <= end) out.push({ start, end });
    }
  }
  return normalize(out);
}

/** Number of trailing zero bits of v (v > 0), capped at `max`. */
function trailingZeros(v: bigint, max: number): number {
  if (v === 0n) return max;
  let n = 0;
  while (n < max && ((v >> BigInt(n)) & 1n) === 0n) n++;
  return n;
}

function bitLength(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

/** The fewest CIDR blocks that exactly cover an interval, in address order. */
export function intervalToCidrs(family: Family, iv: Interval): Cidr[] {
  const bits = BITS[family];
  const out: Cidr[] = [];
  let cur = iv.start;
  while (cur <= iv.end) {
    const remaining = iv.end - cur + 1n;
    // largest block aligned at `cur` that still fits into what is left
    let size = Math.min(trailingZeros(cur, bits), bitLength(remaining) - 1);
    out.push({ family, base: cur, prefix: bits - size });
    cur += 1n << BigInt(size);
  }
  return out;
}

/**
 * The highest block of `prefix` length, aligned on its own size, that lies
 * wholly inside one of the `free` intervals. Highest because routers usually
 * hand out DHCP leases from the bottom of the subnet.
 */
export function highestAlignedBlock(family: Family, free: readonly Interval[], prefix: number): Cidr | undefined {
  const mask = hostMask(family, prefix);
  const size = mask + 1n;
  const merged = normalize(free);
  for (let i = merged.length - 1; i >= 0; i--) {
    const iv = merged[i]!;
    // last aligned start whose block ends inside iv
    if (iv.end - iv.start + 1n < size) continue;
    const start = (iv.end + 1n - size) & ~mask;
    if (start >= iv.start) return { family, base: start, prefix };
  }
  return undefined;
}

/** The largest aligned blocks that the free space holds, biggest first (for "what would fit" hints). */
export function largestBlocks(family: Family, free: readonly Interval[], limit: number): Cidr[] {
  const all = normalize(free).flatMap((iv) => intervalToCidrs(family, iv));
  return all
    .sort((a, b) => a.prefix - b.prefix || (a.base > b.base ? -1 : 1))
    .slice(0, limit);
}

export function intervalSize(iv: Interval): bigint {
  return iv.end - iv.start + 1n;
}
