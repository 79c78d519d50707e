// Per-node slices of a swarm network's ip_range (#13): examples, errors, and properties (fast-check) for
// the promises the README makes: disjoint, aligned, inside the range; appending a node or emptying a slot
// moves no other node; the same file gives the same slices.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MacvlanError } from '../../src/model/errors.js';
import { cidrContains, cidrLast, formatAddress, formatCidr, parseAddress, parseCidr } from '../../src/net/address.js';
import { type SwarmNodeDeclaration, type SwarmSliceRequest, planSwarmSlices, sliceHolding, sliceOfNode } from '../../src/plan/swarm-slices.js';
import { refusalOf } from '../support/refusal.js';

const subnet = parseCidr('198.51.100.0/24');
const gateway = parseAddress('198.51.100.1');
const names = (...n: (string | null)[]): (SwarmNodeDeclaration | null)[] => n.map((x) => (x === null ? null : { name: x }));
const req = (range: string, nodes: (SwarmNodeDeclaration | null)[], extra: Partial<SwarmSliceRequest> = {}): SwarmSliceRequest => ({
  network: 'lan',
  range: parseCidr(range),
  subnet,
  gateway,
  nodes,
  ...extra,
});
const shown = (r: SwarmSliceRequest) => planSwarmSlices(r).slices.map((s) => `${s.node} ${formatCidr(s.slice)} shim ${formatAddress(s.shim)}`);

function configError(f: () => unknown): MacvlanError {
  const e = refusalOf(f);
  expect(e.code).toBe('CONFIG_INVALID');
  expect(e.exitCode).toBe(2);
  return e;
}

describe('planSwarmSlices: examples', () => {
  it('3 nodes in a /26 get /28s in list order, each shim at the top of its own slice', () => {
    expect(shown(req('198.51.100.192/26', names('h1', 'h2', 'h3')))).toEqual([
      'h1 198.51.100.192/28 shim 198.51.100.207',
      'h2 198.51.100.208/28 shim 198.51.100.223',
      'h3 198.51.100.224/28 shim 198.51.100.239',
    ]);
  });

  it('a fourth node takes the last /28 and its shim skips the subnet broadcast address', () => {
    const p = planSwarmSlices(req('198.51.100.192/26', names('h1', 'h2', 'h3', 'h4')));
    expect(p.slicePrefix).toBe(28);
    expect(p.capacity).toBe(4);
    expect(formatAddress(sliceOfNode(p, 'h4')!.shim)).toBe('198.51.100.254');
  });

  it('one node gets the whole range; slice: /N fixes the size', () => {
    expect(shown(req('198.51.100.192/26', names('h1')))).toEqual(['h1 198.51.100.192/26 shim 198.51.100.254']);
    expect(shown(req('198.51.100.192/26', names('h1', 'h2'), { slicePrefix: 29 }))).toEqual([
      'h1 198.51.100.192/29 shim 198.51.100.199',
      'h2 198.51.100.200/29 shim 198.51.100.207',
    ]);
  });

  it('an empty slot (~, a removed node) keeps its slice unused; the nodes after it stay', () => {
    const p = planSwarmSlices(req('198.51.100.192/26', names('h1', null, 'h3')));
    expect(p.slices.map((s) => `${s.node} ${formatCidr(s.slice)}`)).toEqual(['h1 198.51.100.192/28', 'h3 198.51.100.224/28']);
    expect(p.emptySlots.map((e) => `${e.index} ${formatCidr(e.slice)}`)).toEqual(['1 198.51.100.208/28']);
  });

  it('keeps a per-node parent, and finds the slice holding an address', () => {
    const p = planSwarmSlices(req('198.51.100.192/26', [{ name: 'h1' }, { name: 'h2', parent: 'enp3s0' }]));
    expect(sliceOfNode(p, 'h2')!.parent).toBe('enp3s0');
    expect(sliceOfNode(p, 'h1')!.parent).toBeUndefined();
    expect(sliceOfNode(p, 'h9')).toBeUndefined();
    expect(sliceHolding(p, parseAddress('198.51.100.230'))!.node).toBe('h2');
    expect(sliceHolding(p, parseAddress('198.51.100.10'))).toBeUndefined();
  });

  it('IPv6 works the same way', () => {
    const p = planSwarmSlices({ network: 'lan', range: parseCidr('2001:db8:1::/112'), subnet: parseCidr('2001:db8:1::/64'), nodes: names('a', 'b', 'c') });
    expect(p.slices.map((s) => `${formatCidr(s.slice)} ${formatAddress(s.shim)}`)).toEqual([
      '2001:db8:1::/114 2001:db8:1::3fff',
      '2001:db8:1::4000/114 2001:db8:1::7fff',
      '2001:db8:1::8000/114 2001:db8:1::bfff',
    ]);
  });
});

describe('planSwarmSlices: errors (CONFIG_INVALID, exit 2, with the numbers)', () => {
  it('more slots than the range holds at the given size', () => {
    const e = configError(() => planSwarmSlices(req('198.51.100.192/26', names('a', 'b', 'c', 'd', 'e'), { slicePrefix: 28 })));
    expect(e.message).toContain('5 slots do not fit: ip_range 198.51.100.192/26 holds 4 slices of /28');
    expect(e.details).toMatchObject({ nodes: 5, capacity: 4, slicePrefix: 28 });
  });

  it('more nodes than 2-address slices in the range', () => {
    const e = configError(() => planSwarmSlices(req('198.51.100.192/30', names('a', 'b', 'c'))));
    expect(e.message).toContain('3 slots need 3 slices of at least 2 addresses, and ip_range 198.51.100.192/30 holds only 2');
  });

  it('a slice with no room for the shim and a container', () => {
    const e = configError(() => planSwarmSlices(req('198.51.100.252/30', names('a', 'b'))));
    // a's .252/31 holds two usable addresses; b's .254/31 only one (.255 is the subnet's broadcast)
    expect(e.message).toMatch(/node b's slice 198\.51\.100\.254\/31 has 1 usable address/);
    expect(e.details).toMatchObject({ node: 'b', usable: 1, needed: 2 });
    const g = configError(() => planSwarmSlices(req('198.51.100.0/30', names('a', 'b'))));
    expect(g.message).toMatch(/node a's slice 198\.51\.100\.0\/31 has 0 usable addresses \(the subnet's own addresses and the gateway 198\.51\.100\.1 left out\)/);
  });

  it('a slice size outside the range, a node listed twice, an empty list', () => {
    expect(configError(() => planSwarmSlices(req('198.51.100.192/26', names('a'), { slicePrefix: 24 }))).message).toContain('slice: /24 must lie between /26');
    expect(configError(() => planSwarmSlices(req('198.51.100.192/26', names('a', 'b', 'a')))).message).toContain('node a is listed twice (slots 0 and 2)');
    expect(configError(() => planSwarmSlices(req('198.51.100.192/26', []))).message).toContain('list at least one node');
  });
});

describe('planSwarmSlices: properties', () => {
  // an aligned range of /16…/29 in 10.0.0.0/8 (no subnet or gateway: those edges are tested above)
  const rangeArb = fc.record({ prefix: fc.integer({ min: 16, max: 29 }), index: fc.integer({ min: 0, max: 255 }) }).map(({ prefix, index }) => {
    const size = 1n << BigInt(32 - prefix);
    return { family: 4 as const, base: 0x0a000000n + BigInt(index) * size, prefix };
  });
  const nodeNames = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ name: `n${from + i}` }));
  const fits = (prefix: number, slots: number) => 2 ** (32 - prefix - 1) >= slots;

  it('slices are disjoint, aligned, inside the range, in list order; each shim is in its own slice; the size is the largest that fits', () => {
    fc.assert(
      fc.property(rangeArb, fc.integer({ min: 1, max: 40 }), (range, count) => {
        fc.pre(fits(range.prefix, count));
        const p = planSwarmSlices({ network: 'x', range, nodes: nodeNames(count) });
        expect(p.slices).toHaveLength(count);
        expect(p.capacity).toBeGreaterThanOrEqual(count);
        expect(p.capacity / 2 < count).toBe(true); // one size smaller would not fit them all
        p.slices.forEach((s, i) => {
          expect(s.index).toBe(i);
          expect(s.slice.base & ((1n << BigInt(32 - s.slice.prefix)) - 1n)).toBe(0n);
          expect(s.slice.base >= range.base && cidrLast(s.slice) <= cidrLast(range)).toBe(true);
          expect(cidrContains(s.slice, s.shim)).toBe(true);
          if (i > 0) expect(s.slice.base > cidrLast(p.slices[i - 1]!.slice)).toBe(true);
        });
      }),
      { seed: 13, numRuns: 300 },
    );
  });

  it('appending nodes moves no existing slice while the size stays (always, with slice: /N)', () => {
    fc.assert(
      fc.property(rangeArb, fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 }), fc.boolean(), (range, before, added, fixed) => {
        const total = before + added;
        fc.pre(fits(range.prefix, total));
        const slicePrefix = fixed ? range.prefix + Math.ceil(Math.log2(total)) : undefined;
        const a = planSwarmSlices({ network: 'x', range, nodes: nodeNames(before), ...(slicePrefix ? { slicePrefix } : {}) });
        const b = planSwarmSlices({ network: 'x', range, nodes: nodeNames(total), ...(slicePrefix ? { slicePrefix } : {}) });
        if (a.slicePrefix === b.slicePrefix) expect(b.slices.slice(0, before)).toEqual(a.slices);
        if (fixed) expect(a.slicePrefix).toBe(b.slicePrefix);
      }),
      { seed: 13, numRuns: 300 },
    );
  });

  it('removing a node (its slot left empty) moves no other node, and a new node can take the slot back', () => {
    fc.assert(
      fc.property(rangeArb, fc.integer({ min: 2, max: 40 }), fc.nat(), (range, count, pick) => {
        fc.pre(fits(range.prefix, count));
        const removed = pick % count;
        const all = nodeNames(count);
        const a = planSwarmSlices({ network: 'x', range, nodes: all });
        const b = planSwarmSlices({ network: 'x', range, nodes: all.map((n, i) => (i === removed ? null : n)) });
        expect(b.slices).toEqual(a.slices.filter((s) => s.index !== removed));
        expect(b.emptySlots).toEqual([{ index: removed, slice: a.slices[removed]!.slice }]);
        const c = planSwarmSlices({ network: 'x', range, nodes: all.map((n, i) => (i === removed ? { name: 'newcomer' } : n)) });
        expect(c.slices[removed]!.slice).toEqual(a.slices[removed]!.slice);
      }),
      { seed: 13, numRuns: 300 },
    );
  });

  it('is deterministic: the same declaration gives the same slices, whatever was planned before', () => {
    fc.assert(
      fc.property(rangeArb, fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }), (range, present) => {
        fc.pre(fits(range.prefix, present.length));
        const nodes = present.map((p, i) => (p ? { name: `n${i}` } : null));
        const one = planSwarmSlices({ network: 'x', range, nodes });
        planSwarmSlices({ network: 'x', range, nodes: nodeNames(present.length) });
        expect(planSwarmSlices({ network: 'x', range, nodes: nodes.map((n) => (n ? { ...n } : null)) })).toEqual(one);
      }),
      { seed: 13, numRuns: 200 },
    );
  });
});
