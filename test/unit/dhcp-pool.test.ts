/**
 * The DHCP pool estimate from offers. Fixtures: addresses a real dnsmasq 2.90
 * with the pool 198.51.100.100–198.51.100.199 handed to random MACs
 * (test/fixtures/dhcp/README.md).
 */
import { describe, expect, it } from 'vitest';
import type { DhcpOfferSeen } from '../../src/model/lan.js';
import { parseCidr } from '../../src/net/address.js';
import { assumedReach, estimateDhcpPool, estimateDhcpPools, estimatePoolInterval, tailFactor, usableInterval } from '../../src/plan/dhcp-pool.js';
import { fixture } from '../support/fixture-facts.js';

const SERVER = '198.51.100.1';
const SUBNET = '198.51.100.0/24';

function offersFrom(file: string, server = SERVER): DhcpOfferSeen[] {
  return fixture(`dhcp/${file}`)
    .trim()
    .split('\n')
    .map((line) => {
      const [clientMac, address] = line.split(' ');
      return { address: address!, server, clientMac: clientMac! };
    });
}

const offer = (address: string, server = SERVER): DhcpOfferSeen => ({ address, server, clientMac: '02:00:00:00:00:01' });
const last = (a: string) => Number(a.split('.')[3]);

describe('tailFactor', () => {
  it('solves 2(1+t)^-(k-1) - (1+2t)^-(k-1) = 1 - coverage', () => {
    for (const k of [2, 3, 6, 12, 40]) {
      const t = tailFactor(k, 0.8);
      const miss = 2 * (1 + t) ** -(k - 1) - (1 + 2 * t) ** -(k - 1);
      expect(miss).toBeCloseTo(0.2, 9);
    }
  });

  it('shrinks as offers add up and grows with the coverage asked for', () => {
    expect(tailFactor(3)).toBeGreaterThan(tailFactor(6));
    expect(tailFactor(6)).toBeGreaterThan(tailFactor(12));
    expect(tailFactor(6, 0.9)).toBeGreaterThan(tailFactor(6, 0.8));
    // In mean gaps ((max−min)/(k−1)) the reach per side is 2.74 for six offers and tends to −ln(1−√0.8) ≈ 2.25.
    expect(tailFactor(6) * 5).toBeCloseTo(2.74, 2);
    expect(tailFactor(2000) * 1999).toBeCloseTo(-Math.log(1 - Math.sqrt(0.8)), 2);
  });

  it('needs two offers', () => {
    expect(() => tailFactor(1)).toThrow(RangeError);
  });
});

describe('real dnsmasq offers (pool .100–.199)', () => {
  it('six hashed offers: spread, high confidence, and the estimate holds the true pool', () => {
    const [p] = estimateDhcpPools(offersFrom('dnsmasq-hash-6.txt'), SUBNET);
    expect(p!.detail.pattern).toBe('spread');
    expect(p!.detail.offers).toBe(6);
    expect(p!.pool.confidence).toBe('high');
    // .101–.188: span 87, t(6) = 0.548 → reach 48
    expect(p!.detail.reach).toBe(48n);
    expect(p!.pool).toMatchObject({ first: '198.51.100.53', last: '198.51.100.236' });
    expect(last(p!.pool.first)).toBeLessThanOrEqual(100);
    expect(last(p!.pool.last)).toBeGreaterThanOrEqual(199);
    expect(p!.pool.explanation).toBe(
      '6 offers spread over 198.51.100.101–198.51.100.188, about 17 apart: the pool is probably within 198.51.100.53–198.51.100.236',
    );
  });

  it('twelve hashed offers: a tighter estimate that still holds the pool', () => {
    const p = estimateDhcpPool(offersFrom('dnsmasq-hash-12.txt'), SUBNET)!;
    expect(p.confidence).toBe('high');
    expect(last(p.first)).toBeLessThanOrEqual(100);
    expect(last(p.last)).toBeGreaterThanOrEqual(199);
    const six = estimateDhcpPool(offersFrom('dnsmasq-hash-6.txt'), SUBNET)!;
    expect(last(p.last) - last(p.first)).toBeLessThan(last(six.last) - last(six.first));
  });

  it('offers in a row (--dhcp-sequential-ip) are low confidence: they show where the server hands out, not how far the pool reaches', () => {
    const [p] = estimateDhcpPools(offersFrom('dnsmasq-sequential-6.txt'), SUBNET);
    expect(p!.detail.pattern).toBe('sequential');
    expect(p!.pool.confidence).toBe('low');
    expect(p!.detail.reach).toBe(63n); // a quarter of the 254 usable addresses
    expect(p!.pool).toMatchObject({ first: '198.51.100.37', last: '198.51.100.168' });
    expect(p!.pool.explanation).toMatch(/^6 offers in a row at 198\.51\.100\.100–198\.51\.100\.105: this server hands out addresses in order.*--avoid/);
  });
});

describe('estimateDhcpPools', () => {
  it('gives nothing without offers in the subnet, and ignores offers for another subnet', () => {
    expect(estimateDhcpPools([], SUBNET)).toEqual([]);
    expect(estimateDhcpPool([offer('203.0.113.50')], SUBNET)).toBeUndefined();
  });

  it('one offer, or the same address offered to every client: low confidence, assumed reach either way', () => {
    const one = estimateDhcpPool([offer('198.51.100.150')], SUBNET)!;
    expect(one).toMatchObject({ first: '198.51.100.87', last: '198.51.100.213', confidence: 'low' });
    expect(one.explanation).toMatch(/^one offer \(198\.51\.100\.150\): how far the pool reaches is unknown/);
    const same = estimateDhcpPool([offer('198.51.100.150'), offer('198.51.100.150'), offer('198.51.100.150')], SUBNET)!;
    expect(same.explanation).toMatch(/^the same address 198\.51\.100\.150 offered to all 3 clients/);
  });

  it('two spread offers are low confidence; three to five medium', () => {
    expect(estimateDhcpPool([offer('198.51.100.120'), offer('198.51.100.170')], SUBNET)!.confidence).toBe('low');
    expect(estimateDhcpPool(['.120', '.140', '.170'].map((x) => offer(`198.51.100${x}`)), SUBNET)!.confidence).toBe('medium');
    expect(estimateDhcpPool(['.110', '.120', '.140', '.160', '.170'].map((x) => offer(`198.51.100${x}`)), SUBNET)!.confidence).toBe('medium');
  });

  it('clips to the usable addresses of the subnet (never the network or broadcast address)', () => {
    const p = estimateDhcpPool(['.3', '.9', '.250'].map((x) => offer(`198.51.100${x}`)), SUBNET)!;
    expect(p).toMatchObject({ first: '198.51.100.1', last: '198.51.100.254' });
  });

  it('estimates each server on its own, the busiest first', () => {
    const rogue = '198.51.100.66';
    const pools = estimateDhcpPools([...offersFrom('dnsmasq-hash-6.txt'), offer('198.51.100.20', rogue), offer('198.51.100.21', rogue)], SUBNET);
    expect(pools.map((p) => [p.server, p.detail.offers])).toEqual([
      [SERVER, 6],
      [rogue, 2],
    ]);
    expect(pools[1]!.detail.pattern).toBe('sequential');
  });

  it('says nothing about IPv6 subnets (DHCPv4 offers only)', () => {
    expect(estimateDhcpPools([offer('198.51.100.5')], '2001:db8:1::/64')).toEqual([]);
  });
});

describe('bounds', () => {
  it('usable addresses leave out the network and broadcast addresses of IPv4 /30 and larger', () => {
    expect(usableInterval(parseCidr('198.51.100.0/24'))).toEqual({ start: 0xc6336401n, end: 0xc63364fen });
    expect(usableInterval(parseCidr('198.51.100.0/31'))).toEqual({ start: 0xc6336400n, end: 0xc6336401n });
  });

  it('the assumed reach is a quarter of the usable addresses, between 16 and 256', () => {
    expect(assumedReach({ start: 1n, end: 254n })).toBe(63n);
    expect(assumedReach({ start: 1n, end: 14n })).toBe(16n);
    expect(assumedReach({ start: 1n, end: 65534n })).toBe(256n);
  });

  it('an estimate over values outside the bounds is none', () => {
    expect(estimatePoolInterval([500n], { start: 1n, end: 254n })).toBeUndefined();
  });
});
