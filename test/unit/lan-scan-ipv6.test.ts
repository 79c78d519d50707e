/**
 * The pure parts of the IPv6 neighbour probe: the probe's temporary address,
 * the neighbour table read back after the all-nodes echo (captured from a
 * real probe namespace on the lab LAN, test/fixtures/scan/README.md), how the
 * answers are sorted into the subnet and the rest, the --subnet flags, the
 * cache's freshness for IPv6, and what `scan` prints.
 */
import { stripVTControlCharacters } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { presentScan, scanNotes, scanWarnings } from '../../src/present/scan.js';
import { MacvlanError } from '../../src/model/errors.js';
import type { LanScan } from '../../src/model/lan.js';
import { cidrContains, parseAddress, parseCidr } from '../../src/net/address.js';
import { IPV6_DEFAULTS, allNodesPing, answeredNeighbours6, ipv6Sysctls } from '../../src/probe/neighbours6.js';
import { classifyNeighbours6, probeAddress6 } from '../../src/probe/probe-address6.js';
import { parentSubnet6, resolveScanTarget, splitScanSubnets } from '../../src/probe/scan-request.js';
import { answeredNeighbours } from '../../src/probe/sweep.js';
import { isFresh } from '../../src/gather/scan-cache.js';
import { fixture, ipFacts } from '../support/fixture-facts.js';
import { refusalOf } from '../support/refusal.js';

const AFTER_ECHO = fixture('scan/neigh6-after-echo.json');
const AFTER_6S = fixture('scan/neigh6-after-6s.json');
const PROBE = '2001:db8:1:0:9d4b:2e17:c0a5:38f1';
const SUBNET6 = parseCidr('2001:db8:1::/64');

const usageOf = refusalOf;

describe('the neighbour table after the all-nodes echo (real capture)', () => {
  it('every responder, with the MAC it resolved our address from', () => {
    expect(answeredNeighbours6(AFTER_ECHO)).toEqual([
      { address: '2001:db8:1::7', mac: '02:11:c6:33:64:07' },
      { address: 'fe80::11:c6ff:fe33:6478', mac: '02:11:c6:33:64:78' },
      { address: '2001:db8:1::1', mac: '26:3b:c2:0f:6a:2b' },
      { address: '2001:db8:99::3', mac: '02:11:00:00:00:03' },
      { address: '2001:db8:1::4242', mac: '02:11:c6:33:64:2a' },
    ]);
  });

  it('entries gone FAILED (read too late) carry nothing', () => {
    expect(answeredNeighbours6(AFTER_6S)).toEqual([]);
    expect(answeredNeighbours6('')).toEqual([]);
  });

  it('the IPv4 sweep reads the same table and takes none of the IPv6 entries; the IPv6 reader takes no IPv4 ones', () => {
    expect(answeredNeighbours(AFTER_ECHO)).toEqual([]);
    expect(answeredNeighbours6(fixture('scan/neigh-mid-sweep.json'))).toEqual([]);
  });

  it('leaves out multicast and zero MACs, states without an answer, and repeats', () => {
    const json = JSON.stringify([
      { dst: '2001:db8:1::9', lladdr: '33:33:00:00:00:01', state: ['STALE'] },
      { dst: '2001:db8:1::a', lladdr: '00:00:00:00:00:00', state: ['STALE'] },
      { dst: '2001:db8:1::b', state: ['INCOMPLETE'] },
      { dst: '2001:db8:1::c', lladdr: '02:AA:00:00:00:0C', state: ['STALE'] },
      { dst: '2001:db8:1::c', lladdr: '02:aa:00:00:00:0c', state: ['REACHABLE'] },
    ]);
    expect(answeredNeighbours6(json)).toEqual([{ address: '2001:db8:1::c', mac: '02:aa:00:00:00:0c' }]);
  });
});

describe('answers sorted into the subnet and the rest', () => {
  it('the subnet’s (one address per host: .42 answered from ::4242 only) for the planner; link-local and other prefixes apart', () => {
    const { live6, others6 } = classifyNeighbours6(answeredNeighbours6(AFTER_ECHO), SUBNET6, PROBE);
    expect(live6).toEqual([
      { address: '2001:db8:1::1', mac: '26:3b:c2:0f:6a:2b' },
      { address: '2001:db8:1::7', mac: '02:11:c6:33:64:07' },
      { address: '2001:db8:1::4242', mac: '02:11:c6:33:64:2a' },
    ]);
    expect(others6).toEqual([
      { address: '2001:db8:99::3', mac: '02:11:00:00:00:03' },
      { address: 'fe80::11:c6ff:fe33:6478', mac: '02:11:c6:33:64:78' },
    ]);
  });

  it('our own probe address is never a neighbour, and addresses come out in canonical form', () => {
    const { live6 } = classifyNeighbours6(
      [
        { address: PROBE, mac: '02:00:00:00:00:01' },
        { address: '2001:DB8:1:0:0:0:0:7', mac: '02:11:C6:33:64:07' },
      ],
      SUBNET6,
      PROBE,
    );
    expect(live6).toEqual([{ address: '2001:db8:1::7', mac: '02:11:c6:33:64:07' }]);
  });
});

describe('the probe’s temporary address', () => {
  it('lies in the subnet, takes 64 random bits in a /64, and is never the subnet-router anycast or the reserved top 128', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.constantFrom('2001:db8:1::/64', '2001:db8:1:2::/80', '2001:db8:7::/112', '2001:db8::/48'), (bytes, text) => {
        const subnet = parseCidr(text);
        const a = parseAddress(probeAddress6(subnet, bytes));
        expect(cidrContains(subnet, a)).toBe(true);
        const host = a.value - subnet.base;
        expect(host).toBeGreaterThan(0n);
        expect(host).toBeLessThan((1n << BigInt(Math.min(64, 128 - subnet.prefix))) - 128n);
      }),
    );
    expect(probeAddress6(SUBNET6, new Uint8Array(8))).toBe('2001:db8:1::1');
    // All ones is folded below the top 128 (reserved anycast): (2^64 - 1) mod (2^64 - 129) = 128, plus 1.
    expect(probeAddress6(SUBNET6, new Uint8Array(8).fill(0xff))).toBe('2001:db8:1::81');
    expect(probeAddress6(SUBNET6, Uint8Array.from([0x9d, 0x4b, 0x2e, 0x17, 0xc0, 0xa5, 0x38, 0xf1]))).toMatch(/^2001:db8:1:0:/);
  });

  it('refuses subnets that leave fewer than 16 random bits, and too few random bytes', () => {
    expect(() => probeAddress6(parseCidr('2001:db8:1::/120'), new Uint8Array(8))).toThrow(/longer than \/112/);
    expect(() => probeAddress6(SUBNET6, new Uint8Array(4))).toThrow(/8 random bytes/);
    expect(() => probeAddress6(parseCidr('198.51.100.0/24'), new Uint8Array(8))).toThrow(/IPv6/);
  });
});

describe('how the worker asks', () => {
  it('one echo to ff02::1 out of the probe interface, with iputils or busybox', () => {
    expect(allNodesPing('iputils', 'mvlscan0')).toEqual({ file: 'ping', args: ['-6', '-n', '-c', '1', '-w', '1', '-I', 'mvlscan0', 'ff02::1'] });
    expect(allNodesPing('busybox', 'mvlscan0')).toEqual({ file: 'busybox', args: ['ping', '-6', '-c', '1', '-w', '1', '-I', 'mvlscan0', 'ff02::1'] });
  });

  it('no link-local address, no RA, no DAD; IPv6 on for the probe interface alone, no unicast NS to confirm answers', () => {
    expect(Object.fromEntries(IPV6_DEFAULTS)).toMatchObject({ 'net/ipv6/conf/default/addr_gen_mode': '1', 'net/ipv6/conf/default/accept_ra': '0', 'net/ipv6/conf/default/accept_dad': '0' });
    expect(ipv6Sysctls('mvlscan0')).toEqual([
      ['net/ipv6/conf/mvlscan0/disable_ipv6', '0'],
      ['net/ipv6/neigh/mvlscan0/ucast_solicit', '0'],
      ['net/ipv6/neigh/mvlscan0/app_solicit', '0'],
    ]);
  });
});

describe('--subnet once per family', () => {
  const { interfaces, routes } = ipFacts('fresh-host'); // eno1: 198.51.100.24/24 and 2001:db8:1::24/64

  it('splits IPv4 and IPv6 values; the same family twice is a usage error', () => {
    expect(splitScanSubnets(undefined)).toEqual({});
    expect(splitScanSubnets('198.51.100.0/24')).toEqual({ subnet: '198.51.100.0/24' });
    expect(splitScanSubnets(['2001:db8:1::/64', '198.51.100.0/25'])).toEqual({ subnet: '198.51.100.0/25', subnet6: '2001:db8:1::/64' });
    const e = usageOf(() => splitScanSubnets(['2001:db8:1::/64', '2001:db8:2::/64']));
    expect(e.code).toBe('USAGE');
    expect(e.message).toMatch(/twice for IPv6/);
  });

  it('the IPv6 subnet by default is the parent’s (never its link-local one)', () => {
    const eno1 = interfaces.find((i) => i.name === 'eno1')!;
    expect(parentSubnet6(eno1)).toEqual(SUBNET6);
    expect(parentSubnet6({ ...eno1, addresses: eno1.addresses.filter((a) => a.address.family === 4 || a.address.value >> 118n === 0x3fan) })).toBeUndefined();
    // A DHCPv6 /128: the subnet is the on-link route that holds it.
    const dhcp6 = { ...eno1, addresses: [...eno1.addresses.filter((a) => a.address.family === 4), { address: parseAddress('2001:db8:1::abcd'), prefix: 128 }] };
    expect(parentSubnet6(dhcp6)).toBeUndefined();
    expect(parentSubnet6(dhcp6, routes)).toEqual(SUBNET6);
  });

  it('an IPv6 subnet must be on the parent, not link-local, not longer than /112', () => {
    expect(resolveScanTarget(interfaces, routes, { parent: 'eno1', subnet6: '2001:db8:1::/64' }).subnet6).toEqual(SUBNET6);
    expect(resolveScanTarget(interfaces, routes, { parent: 'eno1' }).subnet6).toBeUndefined();
    for (const [text, msg] of [
      ['2001:db8:2::/64', /is not on eno1 \(its IPv6 subnets: 2001:db8:1::\/64\)/],
      ['fe80::/64', /link-local/],
      ['2001:db8:1::/120', /longer than \/112/],
      ['198.51.100.0/24x', /./],
    ] as const) {
      const e = usageOf(() => resolveScanTarget(interfaces, routes, { parent: 'eno1', subnet6: text }));
      expect(e.message).toMatch(msg);
    }
  });
});

describe('the cache and IPv6', () => {
  const now = new Date('2026-12-01T10:00:10.000Z');
  const base: LanScan = { parent: 'eno1', subnet: '198.51.100.0/24', scannedAt: '2026-12-01T10:00:00.000Z', durationMs: 400, live: [], dhcp: { servers: [], offers: [] } };
  const withV6: LanScan = { ...base, subnet6: '2001:db8:1::/64', live6: [], others6: [] };

  it('a scan from before the IPv6 probe (no subnet6) still serves IPv4, and is stale for an IPv6 network', () => {
    expect(isFresh(base, now, { subnet: '198.51.100.0/24', complete: true })).toBe(true);
    expect(isFresh(base, now, { subnet: '198.51.100.0/24', subnet6: '2001:db8:1::/64', complete: true })).toBe(false);
  });

  it('one with the IPv6 neighbours serves both; another IPv6 subnet does not; a failed IPv6 probe stands (asking again would fail again)', () => {
    expect(isFresh(withV6, now, { subnet: '198.51.100.0/24', complete: true })).toBe(true);
    expect(isFresh(withV6, now, { subnet: '198.51.100.0/24', subnet6: '2001:db8:1::/64', complete: true })).toBe(true);
    expect(isFresh(withV6, now, { subnet: '198.51.100.0/24', subnet6: '2001:db8:2::/64', complete: true })).toBe(false);
    const failed: LanScan = { ...base, subnet6: '2001:db8:1::/64', ipv6Failure: 'no ping' };
    expect(isFresh(failed, now, { subnet: '198.51.100.0/24', subnet6: '2001:db8:1::/64', complete: true })).toBe(true);
    expect(isFresh({ ...base, subnet6: '2001:db8:1::/64' }, now, { subnet: '198.51.100.0/24', subnet6: '2001:db8:1::/64', complete: true })).toBe(false);
  });
});

describe('what scan prints', () => {
  const scan: LanScan = {
    parent: 'eno1',
    subnet: '198.51.100.0/24',
    scannedAt: '2026-12-01T10:00:00.000Z',
    durationMs: 410,
    live: [
      { address: '198.51.100.1', mac: '26:3b:c2:0f:6a:2b' },
      { address: '198.51.100.7', mac: '02:11:c6:33:64:07' },
    ],
    subnet6: '2001:db8:1::/64',
    ...classifyNeighbours6(answeredNeighbours6(AFTER_ECHO), SUBNET6, PROBE),
  };

  it('lists the IPv6 neighbours with their MACs, the IPv4 address of the same MAC, the gateway, and the rest apart; notes the one-address limit', () => {
    const text = stripVTControlCharacters(presentScan({ ...scan, warnings: [], notes: scanNotes(scan) }, undefined, '198.51.100.1', '2001:db8:1::1'));
    expect(text).toContain('IPv6 neighbours in 2001:db8:1::/64 (3, answered an all-nodes echo)');
    expect(text).toMatch(/^ {2}2001:db8:1::1 +26:3b:c2:0f:6a:2b {2}gateway, also 198\.51\.100\.1$/m);
    expect(text).toMatch(/^ {2}2001:db8:1::7 +02:11:c6:33:64:07 {2}also 198\.51\.100\.7$/m);
    expect(text).toMatch(/^ {2}2001:db8:1::4242 +02:11:c6:33:64:2a$/m);
    expect(text).toMatch(/answered from outside 2001:db8:1::\/64 \(link-local or another prefix; not in the way of a range\):\n {2}2001:db8:99::3 .*\n {2}fe80::11:c6ff:fe33:6478 +02:11:c6:33:64:78/);
    expect(text).toMatch(/note: IPv6: a host answers the all-nodes echo from one address only/);
  });

  it('without IPv6: no section, no note; a failed IPv6 probe is a warning', () => {
    const v4only: LanScan = { ...scan, subnet6: undefined, live6: undefined, others6: undefined };
    delete v4only.subnet6;
    const text = stripVTControlCharacters(presentScan({ ...v4only, warnings: [], notes: scanNotes(v4only) }, undefined));
    expect(text).not.toMatch(/IPv6/);
    const failed: LanScan = { ...v4only, subnet6: '2001:db8:1::/64', ipv6Failure: 'no ping program could send the echo to ff02::1 (ping: spawn ping ENOENT); install iputils-ping' };
    expect(scanWarnings(failed, 3500)).toContain(
      'IPv6 neighbours in 2001:db8:1::/64 were not asked: no ping program could send the echo to ff02::1 (ping: spawn ping ENOENT); install iputils-ping',
    );
  });
});
