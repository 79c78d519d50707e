/**
 * Property tests for the BigInt interval code, IPv4 and IPv6 alike.
 *
 * Three oracles: brute force over small universes (at most 1024 addresses, every
 * address enumerated), an obviously-correct recursive splitter for CIDR cover,
 * and cidr-tools 11 (test-only reference) compared by CIDR strings.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { excludeCidr, mergeCidr } from 'cidr-tools';
import { BITS, type Cidr, type Family, cidrLast, formatCidr, formatValue, hostMask, parseCidr } from '../../src/net/address.js';
import {
  type Interval,
  cidrToInterval,
  containsInterval,
  highestAlignedBlock,
  intersect,
  intervalSize,
  intervalToCidrs,
  largestBlocks,
  normalize,
  overlaps,
  subtract,
} from '../../src/net/intervals.js';

// ---------------------------------------------------------------- helpers

const maxValue = (family: Family): bigint => (1n << BigInt(BITS[family])) - 1n;
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);

/** Independent reference: the maximal aligned blocks inside `iv`, found by splitting from /0 down. */
function refCidrs(family: Family, iv: Interval): Cidr[] {
  const bits = BITS[family];
  const out: Cidr[] = [];
  const visit = (base: bigint, prefix: number): void => {
    const last = base + (1n << BigInt(bits - prefix)) - 1n;
    if (last < iv.start || base > iv.end) return;
    if (base >= iv.start && last <= iv.end) {
      out.push({ family, base, prefix });
      return;
    }
    const half = 1n << BigInt(bits - prefix - 1);
    visit(base, prefix + 1);
    visit(base + half, prefix + 1);
  };
  if (iv.start <= iv.end) visit(0n, 0);
  return out;
}

const cidrStrings = (family: Family, ivs: readonly Interval[]): string[] =>
  ivs.flatMap((iv) => intervalToCidrs(family, iv)).map(formatCidr);

const refStrings = (family: Family, ivs: readonly Interval[]): string[] =>
  ivs.flatMap((iv) => refCidrs(family, iv)).map(formatCidr);

/** cidr-tools output (it returns a merged, sorted list): each entry must be a canonical CIDR of `family`. */
const sortedCidrStrings = (family: Family, list: readonly string[]): string[] => {
  for (const s of list) expect(parseCidr(s).family).toBe(family);
  return [...list];
};

function isAligned(c: Cidr): boolean {
  return (c.base & hostMask(c.family, c.prefix)) === 0n;
}

/** Membership bitmap of the universe `u` for a list of intervals (clipped to u). */
function bitmap(u: Interval, ivs: readonly Interval[]): Uint8Array {
  const n = Number(intervalSize(u));
  const m = new Uint8Array(n);
  for (const iv of ivs) {
    const s = max(iv.start, u.start);
    const e = min(iv.end, u.end);
    for (let v = s; v <= e; v++) m[Number(v - u.start)] = 1;
  }
  return m;
}

function expectNormalized(list: readonly Interval[]): void {
  for (const iv of list) expect(iv.start <= iv.end).toBe(true);
  for (let i = 1; i < list.length; i++) {
    // sorted, not overlapping and not adjacent
    expect(list[i]!.start > list[i - 1]!.end + 1n).toBe(true);
  }
}

/** Blocks are aligned, in order, disjoint, and together exactly cover `iv` (contiguous from start to end). */
function expectExactCover(family: Family, iv: Interval, blocks: readonly Cidr[]): void {
  let next = iv.start;
  for (const b of blocks) {
    expect(b.family).toBe(family);
    expect(b.prefix >= 0 && b.prefix <= BITS[family]).toBe(true);
    expect(isAligned(b)).toBe(true);
    expect(b.base).toBe(next);
    next = cidrLast(b) + 1n;
  }
  expect(next).toBe(iv.end + 1n);
}

/** Minimal: no block's parent (one bit shorter prefix) lies inside `iv`, so no two blocks could merge. */
function expectMaximalBlocks(iv: Interval, blocks: readonly Cidr[]): void {
  for (const b of blocks) {
    if (b.prefix === 0) continue;
    const parent = cidrToInterval({ family: b.family, base: b.base & ~hostMask(b.family, b.prefix - 1), prefix: b.prefix - 1 });
    expect(containsInterval(iv, parent)).toBe(false);
  }
}

// ---------------------------------------------------------------- arbitraries

interface Universe {
  family: Family;
  net: Cidr;
  iv: Interval;
}

function universeArb(family: Family, minPrefix: number, maxPrefix: number): fc.Arbitrary<Universe> {
  return fc
    .record({ value: fc.bigInt({ min: 0n, max: maxValue(family) }), prefix: fc.integer({ min: minPrefix, max: maxPrefix }) })
    .map(({ value, prefix }) => {
      const net: Cidr = { family, base: value & ~hostMask(family, prefix), prefix };
      return { family, net, iv: cidrToInterval(net) };
    });
}

/** An interval inside [lo, hi]. */
function intervalArb(lo: bigint, hi: bigint): fc.Arbitrary<Interval> {
  return fc
    .tuple(fc.bigInt({ min: lo, max: hi }), fc.bigInt({ min: lo, max: hi }))
    .map(([a, b]) => (a <= b ? { start: a, end: b } : { start: b, end: a }));
}

/** A CIDR-shaped interval with its base inside [lo, hi] and prefix >= minPrefix (may run past hi). */
function cidrIntervalArb(family: Family, lo: bigint, hi: bigint, minPrefix: number): fc.Arbitrary<Interval> {
  return fc
    .tuple(fc.bigInt({ min: lo, max: hi }), fc.integer({ min: minPrefix, max: BITS[family] }))
    .map(([v, p]) => cidrToInterval({ family, base: v & ~hostMask(family, p), prefix: p }));
}

/** Intervals in and around the universe: arbitrary ranges, CIDR blocks, single addresses. */
function listArb(u: Universe, maxLength: number): fc.Arbitrary<Interval[]> {
  const size = intervalSize(u.iv);
  const lo = max(0n, u.iv.start - size / 4n);
  const hi = min(maxValue(u.family), u.iv.end + size / 4n);
  const one = fc.oneof(
    intervalArb(lo, hi),
    intervalArb(u.iv.start, u.iv.end),
    cidrIntervalArb(u.family, lo, hi, u.net.prefix),
    fc.bigInt({ min: u.iv.start, max: u.iv.end }).map((v) => ({ start: v, end: v })),
  );
  return fc.array(one, { maxLength });
}

interface Scenario {
  u: Universe;
  a: Interval[];
  b: Interval[];
}

function scenarioArb(family: Family, minPrefix: number, maxPrefix: number, maxLength = 6): fc.Arbitrary<Scenario> {
  return universeArb(family, minPrefix, maxPrefix).chain((u) =>
    fc.record({ u: fc.constant(u), a: listArb(u, maxLength), b: listArb(u, maxLength) }),
  );
}

/** Small universes, every address enumerable (<= 1024), and wide ones that are never enumerated. */
const SMALL: ReadonlyArray<[string, Family, number, number, number]> = [
  ['IPv4 small', 4, 22, 32, 100],
  ['IPv6 small', 6, 118, 128, 100],
];
const WIDE: ReadonlyArray<[string, Family, number, number, number]> = [
  ['IPv4 wide', 4, 0, 21, 100],
  ['IPv6 /96../117', 6, 96, 117, 60],
  ['IPv6 wide', 6, 0, 64, 40],
];

// ---------------------------------------------------------------- intervalToCidrs

describe('intervalToCidrs', () => {
  it.each([...SMALL, ...WIDE])('%s: aligned, in order, exact, minimal, equal to the reference and cidr-tools', (_n, family, lo, hi, runs) => {
    fc.assert(
      fc.property(
        universeArb(family, lo, hi).chain((u) => fc.tuple(fc.constant(u), intervalArb(u.iv.start, u.iv.end))),
        ([u, iv]) => {
          const blocks = intervalToCidrs(family, iv);
          expectExactCover(family, iv, blocks);
          expectMaximalBlocks(iv, blocks);
          const ours = blocks.map(formatCidr);
          expect(ours).toEqual(refStrings(family, [iv]));
          // cidr-tools merges the reference blocks into the same set
          expect(sortedCidrStrings(family, mergeCidr(refStrings(family, [iv])))).toEqual(ours);
          // and, where that is cheap, merges the single addresses into the same set
          if (intervalSize(iv) <= 256n) {
            const singles: string[] = [];
            for (let v = iv.start; v <= iv.end; v++) singles.push(formatValue(family, v));
            expect(sortedCidrStrings(family, mergeCidr(singles))).toEqual(ours);
          }
          // cidr-tools: the universe minus what lies outside the interval gives the same blocks
          const outside = normalize([
            ...(iv.start > u.iv.start ? [{ start: u.iv.start, end: iv.start - 1n }] : []),
            ...(iv.end < u.iv.end ? [{ start: iv.end + 1n, end: u.iv.end }] : []),
          ]);
          expect(sortedCidrStrings(family, excludeCidr([formatCidr(u.net)], refStrings(family, outside)))).toEqual(ours);
        },
      ),
      { numRuns: runs },
    );
  });

  it('edge cases', () => {
    expect(intervalToCidrs(4, { start: 0n, end: maxValue(4) }).map(formatCidr)).toEqual(['0.0.0.0/0']);
    expect(intervalToCidrs(6, { start: 0n, end: maxValue(6) }).map(formatCidr)).toEqual(['::/0']);
    expect(intervalToCidrs(4, { start: maxValue(4), end: maxValue(4) }).map(formatCidr)).toEqual(['255.255.255.255/32']);
    expect(intervalToCidrs(6, { start: 1n, end: maxValue(6) })).toHaveLength(128);
    expect(intervalToCidrs(4, { start: 0n, end: maxValue(4) - 1n })).toHaveLength(32);
    const r = parseCidr('198.51.100.0/24');
    expect(intervalToCidrs(4, { start: r.base + 1n, end: r.base + 254n }).map(formatCidr)).toEqual([
      '198.51.100.1/32',
      '198.51.100.2/31',
      '198.51.100.4/30',
      '198.51.100.8/29',
      '198.51.100.16/28',
      '198.51.100.32/27',
      '198.51.100.64/26',
      '198.51.100.128/26',
      '198.51.100.192/27',
      '198.51.100.224/28',
      '198.51.100.240/29',
      '198.51.100.248/30',
      '198.51.100.252/31',
      '198.51.100.254/32',
    ]);
  });
});

// ---------------------------------------------------------------- normalize

describe('normalize', () => {
  it.each(SMALL)('%s: idempotent, order-free, non-overlapping, non-adjacent, same addresses', (_n, family, lo, hi, runs) => {
    fc.assert(
      fc.property(scenarioArb(family, lo, hi, 8), ({ u, a }) => {
        const n = normalize(a);
        expectNormalized(n);
        expect(normalize(n)).toEqual(n);
        expect(normalize([...a].reverse())).toEqual(n);
        // same addresses: compare over the universe widened by the inputs' reach
        const span: Interval = a.reduce((s, iv) => ({ start: min(s.start, iv.start), end: max(s.end, iv.end) }), u.iv);
        if (intervalSize(span) <= 4096n) expect(bitmap(span, n)).toEqual(bitmap(span, a));
      }),
      { numRuns: runs },
    );
  });

  it.each(WIDE)('%s: idempotent, non-adjacent, and cidr-tools agrees on the merged set', (_n, family, lo, hi, runs) => {
    fc.assert(
      fc.property(scenarioArb(family, lo, hi, 6), ({ a }) => {
        const n = normalize(a);
        expectNormalized(n);
        expect(normalize(n)).toEqual(n);
        expect(normalize([...a].reverse())).toEqual(n);
        for (const iv of a) expect(n.filter((m) => containsInterval(m, iv))).toHaveLength(1);
        const expected = a.length === 0 ? [] : sortedCidrStrings(family, mergeCidr(refStrings(family, a)));
        expect(cidrStrings(family, n)).toEqual(expected);
      }),
      { numRuns: runs },
    );
  });

  it('merges adjacent and contained intervals', () => {
    expect(
      normalize([
        { start: 10n, end: 20n },
        { start: 0n, end: 4n },
        { start: 5n, end: 9n },
        { start: 12n, end: 13n },
        { start: 22n, end: 22n },
      ]),
    ).toEqual([
      { start: 0n, end: 20n },
      { start: 22n, end: 22n },
    ]);
    expect(normalize([])).toEqual([]);
  });
});

// ---------------------------------------------------------------- subtract, intersect, overlaps

describe('subtract', () => {
  it.each([...SMALL, ...WIDE])('%s: free + excluded = subnet, free never touches excluded, cidr-tools agrees', (_n, family, lo, hi, runs) => {
    fc.assert(
      fc.property(scenarioArb(family, lo, hi), ({ u, b: excluded }) => {
        const free = subtract([u.iv], excluded);
        expectNormalized(free);
        for (const f of free) {
          expect(containsInterval(u.iv, f)).toBe(true);
          for (const x of excluded) expect(overlaps(f, x)).toBe(false);
        }
        // free and the excluded part of the subnet together are the subnet, with no address counted twice
        const inside = intersect([u.iv], excluded);
        const total = [...free, ...inside].reduce((s, iv) => s + intervalSize(iv), 0n);
        expect(total).toBe(intervalSize(u.iv));
        expect(normalize([...free, ...inside])).toEqual([u.iv]);
        if (intervalSize(u.iv) <= 1024n) {
          const f = bitmap(u.iv, free);
          const x = bitmap(u.iv, excluded);
          // every address of the subnet is either free or excluded, never both, never neither
          expect(f.map((v, i) => v + x[i]!)).toEqual(new Uint8Array(f.length).fill(1));
        }
        // cidr-tools: exclude the same blocks from the subnet
        const reference = excludeCidr([formatCidr(u.net)], refStrings(family, normalize(excluded)));
        expect(cidrStrings(family, free)).toEqual(sortedCidrStrings(family, reference));
      }),
      { numRuns: runs },
    );
  });

  it.each(SMALL)('%s: x in (A - B) iff x in A and not in B, for any lists', (_n, family, lo, hi, runs) => {
    fc.assert(
      fc.property(scenarioArb(family, lo, hi), ({ u, a, b }) => {
        const r = subtract(a, b);
        expectNormalized(r);
        const [ma, mb, mr] = [bitmap(u.iv, a), bitmap(u.iv, b), bitmap(u.iv, r)];
        expect(mr).toEqual(ma.map((v, i) => (v && !mb[i] ? 1 : 0)));
      }),
      { numRuns: runs },
    );
  });

  it('examples', () => {
    const u = cidrToInterval(parseCidr('198.51.100.0/24'));
    expect(subtract([u], [u])).toEqual([]);
    expect(subtract([u], [])).toEqual([u]);
    expect(subtract([u], [cidrToInterval(parseCidr('0.0.0.0/0'))])).toEqual([]);
    expect(cidrStrings(4, subtract([u], [cidrToInterval(parseCidr('198.51.100.0/25')), { start: u.end, end: u.end }]))).toEqual([
      '198.51.100.128/26',
      '198.51.100.192/27',
      '198.51.100.224/28',
      '198.51.100.240/29',
      '198.51.100.248/30',
      '198.51.100.252/31',
      '198.51.100.254/32',
    ]);
  });
});

describe('intersect and overlaps', () => {
  it.each(SMALL)('%s: x in (A & B) iff x in A and in B; overlaps iff a shared address', (_n, family, lo, hi, runs) => {
    fc.assert(
      fc.property(scenarioArb(family, lo, hi), ({ u, a, b }) => {
        const r = intersect(a, b);
        expectNormalized(r);
        const [ma, mb, mr] = [bitmap(u.iv, a), bitmap(u.iv, b), bitmap(u.iv, r)];
        expect(mr).toEqual(ma.map((v, i) => (v && mb[i] ? 1 : 0)));
        for (const x of a.slice(0, 3)) {
          for (const y of b.slice(0, 3)) {
            const span = { start: min(x.start, y.start), end: max(x.end, y.end) };
            const xm = bitmap(span, [x]);
            const ym = bitmap(span, [y]);
            const shared = xm.some((v, i) => v === 1 && ym[i] === 1);
            expect(overlaps(x, y)).toBe(shared);
            expect(overlaps(y, x)).toBe(shared);
          }
        }
      }),
      { numRuns: runs },
    );
  });
});

// ---------------------------------------------------------------- highestAlignedBlock

/** Brute force: the highest aligned /prefix block in `u` whose every address is marked free. */
function bruteHighest(family: Family, u: Interval, free: Uint8Array, prefix: number): Cidr | undefined {
  const size = 1n << BigInt(BITS[family] - prefix);
  if (size > intervalSize(u)) return undefined;
  const n = Number(size);
  for (let off = free.length - n; off >= 0; off -= n) {
    let ok = true;
    for (let i = off; i < off + n && ok; i++) ok = free[i] === 1;
    if (ok) return { family, base: u.start + BigInt(off), prefix };
  }
  return undefined;
}

/** Independent check that no aligned /prefix block above `base` fits into any of the free intervals. */
function noHigherBlock(free: readonly Interval[], family: Family, prefix: number, above: bigint | undefined): boolean {
  const size = 1n << BigInt(BITS[family] - prefix);
  for (const iv of free) {
    const top = ((iv.end + 1n) / size) * size - size; // highest aligned block ending at or before iv.end
    if (top >= iv.start && (above === undefined || top > above)) return false;
  }
  return true;
}

describe('highestAlignedBlock', () => {
  it.each(SMALL)('%s: equals brute force, for raw free lists and for subnet minus excluded', (_n, family, lo, hi, runs) => {
    fc.assert(
      fc.property(scenarioArb(family, lo, hi), ({ u, a, b: excluded }) => {
        const raw = a.map((iv) => ({ start: max(iv.start, u.iv.start), end: min(iv.end, u.iv.end) })).filter((iv) => iv.start <= iv.end);
        const carved = subtract([u.iv], excluded);
        const notExcluded = bitmap(u.iv, excluded).map((v) => 1 - v);
        for (const [free, marks] of [
          [raw, bitmap(u.iv, raw)],
          [carved, notExcluded],
        ] as const) {
          for (let p = Math.max(0, u.net.prefix - 2); p <= BITS[family]; p++) {
            const got = highestAlignedBlock(family, free, p);
            expect(got).toEqual(bruteHighest(family, u.iv, marks, p));
            if (got) {
              expect(isAligned(got)).toBe(true);
              expect(normalize(free).some((iv) => containsInterval(iv, cidrToInterval(got)))).toBe(true);
            }
          }
        }
        for (let p = u.net.prefix; p <= BITS[family]; p++) {
          const got = highestAlignedBlock(family, carved, p);
          if (got) for (const x of excluded) expect(overlaps(cidrToInterval(got), x)).toBe(false);
        }
      }),
      { numRuns: 60 },
    );
  });

  it.each(WIDE)('%s: aligned, free, never touching an excluded address, none higher', (_n, family, lo, hi, runs) => {
    fc.assert(
      fc.property(
        scenarioArb(family, lo, hi).chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: s.u.net.prefix, max: BITS[family] }))),
        ([{ u, b: excluded }, p]) => {
          const free = subtract([u.iv], excluded);
          const got = highestAlignedBlock(family, free, p);
          if (got) {
            expect(got.prefix).toBe(p);
            expect(isAligned(got)).toBe(true);
            const giv = cidrToInterval(got);
            expect(free.some((iv) => containsInterval(iv, giv))).toBe(true);
            for (const x of excluded) expect(overlaps(giv, x)).toBe(false);
          }
          expect(noHigherBlock(free, family, p, got?.base)).toBe(true);
        },
      ),
      { numRuns: runs },
    );
  });

  it('examples', () => {
    const u = cidrToInterval(parseCidr('198.51.100.0/24'));
    const dhcp = cidrToInterval(parseCidr('198.51.100.0/25'));
    const router = { start: u.end - 1n, end: u.end - 1n }; // 198.51.100.254
    const free = subtract([u], [dhcp, router]);
    expect(formatCidr(highestAlignedBlock(4, free, 27)!)).toBe('198.51.100.192/27');
    expect(formatCidr(highestAlignedBlock(4, free, 26)!)).toBe('198.51.100.128/26');
    expect(highestAlignedBlock(4, free, 25)).toBeUndefined();
    expect(formatCidr(highestAlignedBlock(4, free, 32)!)).toBe('198.51.100.255/32');
    expect(highestAlignedBlock(4, [], 24)).toBeUndefined();
    expect(formatCidr(highestAlignedBlock(6, [{ start: 0n, end: maxValue(6) }], 0)!)).toBe('::/0');
    expect(formatCidr(highestAlignedBlock(4, [{ start: 0n, end: maxValue(4) }], 0)!)).toBe('0.0.0.0/0');
    const v6 = cidrToInterval(parseCidr('2001:db8::/64'));
    expect(formatCidr(highestAlignedBlock(6, subtract([v6], [{ start: v6.end, end: v6.end }]), 80)!)).toBe('2001:db8:0:0:fffe::/80');
  });
});

// ---------------------------------------------------------------- largestBlocks

describe('largestBlocks', () => {
  it.each([...SMALL, ...WIDE])('%s: inside the free space, disjoint, biggest first, and the biggest there is', (_n, family, lo, hi, runs) => {
    fc.assert(
      fc.property(scenarioArb(family, lo, hi), fc.integer({ min: 0, max: 12 }), ({ u, b: excluded }, limit) => {
        const free = subtract([u.iv], excluded);
        const all = normalize(free).flatMap((iv) => intervalToCidrs(family, iv));
        const got = largestBlocks(family, free, limit);
        expect(got).toHaveLength(Math.min(limit, all.length));
        for (let i = 0; i < got.length; i++) {
          const g = got[i]!;
          expect(isAligned(g)).toBe(true);
          const giv = cidrToInterval(g);
          expect(free.some((iv) => containsInterval(iv, giv))).toBe(true);
          for (const x of excluded) expect(overlaps(giv, x)).toBe(false);
          if (i > 0) expect(got[i - 1]!.prefix <= g.prefix).toBe(true);
          for (let j = 0; j < i; j++) expect(overlaps(cidrToInterval(got[j]!), giv)).toBe(false);
        }
        const first = got[0];
        if (first) {
          // nothing bigger fits anywhere, and of that size it is the highest (as highestAlignedBlock picks)
          if (first.prefix > 0) expect(highestAlignedBlock(family, free, first.prefix - 1)).toBeUndefined();
          expect(first).toEqual(highestAlignedBlock(family, free, first.prefix));
          if (intervalSize(u.iv) <= 1024n && first.prefix > 0) {
            expect(bruteHighest(family, u.iv, bitmap(u.iv, free), first.prefix - 1)).toBeUndefined();
          }
        }
        // with no limit to speak of, the blocks are the free space exactly
        const everything = largestBlocks(family, free, 1_000_000);
        expect(normalize(everything.map(cidrToInterval))).toEqual(free);
        expect(everything.reduce((s, c) => s + intervalSize(cidrToInterval(c)), 0n)).toBe(free.reduce((s, iv) => s + intervalSize(iv), 0n));
      }),
      { numRuns: runs },
    );
  });

  it('example', () => {
    const u = cidrToInterval(parseCidr('198.51.100.0/24'));
    const free = subtract([u], [cidrToInterval(parseCidr('198.51.100.0/26')), { start: u.end - 1n, end: u.end - 1n }]);
    expect(largestBlocks(4, free, 4).map(formatCidr)).toEqual([
      '198.51.100.128/26',
      '198.51.100.64/26', // equal size: the higher one first
      '198.51.100.192/27',
      '198.51.100.224/28',
    ]);
    expect(largestBlocks(4, free, 0)).toEqual([]);
    expect(largestBlocks(4, [], 3)).toEqual([]);
  });
});
