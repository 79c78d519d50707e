/**
 * Declarations that reached Docker or `ip` (or changed the host with exit 0)
 * before, and must be refused with exit 2 before anything is touched
 * (issue #14 items 1, 5, 10), and a refusal that was wrong (issue #10 item 6).
 * Facts: the fresh-host fixture (eno1 198.51.100.24/24, default via .1,
 * 2001:db8:1::24/64), as after --no-scan: no LAN scan.
 */
import { describe, expect, it } from 'vitest';
import { flagsToRaw, type NetworkFlags } from '../../src/config/flags.js';
import { toDesired } from '../../src/config/to-desired.js';
import type { DockerNetworkFact, HostFacts } from '../../src/model/facts.js';
import { parseAddress, parseCidr } from '../../src/net/address.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { parseProcIpv6Routes, parseRoutes } from '../../src/gather/ip-facts.js';
import { docker, hostFacts } from '../support/fixture-facts.js';
import { refusalOf } from '../support/refusal.js';

const P: NetworkFlags = { parent: 'eno1' };

function plan(flags: NetworkFlags, facts: HostFacts = hostFacts(), name = 'lan') {
  return computePlan([toDesired(flagsToRaw(name, flags))], facts);
}

function refused(flags: NetworkFlags, facts: HostFacts = hostFacts(), name = 'lan') {
  const e = refusalOf(() => plan(flags, facts, name));
  expect(e.exitCode, e.message).toBe(2);
  return e;
}

function macvlanNet(over: Partial<DockerNetworkFact> & { name: string }): DockerNetworkFact {
  return { id: `id-${over.name}`, driver: 'macvlan', scope: 'local', parent: 'eno1', labels: {}, options: {}, subnets: [], enableIPv6: false, containers: [], configOnly: false, ...over };
}

function withSubnet(subnet: string, over: Partial<DockerNetworkFact> & { name: string }): DockerNetworkFact {
  return macvlanNet({ ...over, subnets: [{ subnet: parseCidr(subnet), auxAddresses: {}, raw: {} }] });
}

describe('the router and the host stay outside the ip-range without a scan', () => {
  it('a /16 whose declared gateway is not the default route’s: a range holding the real router is refused', () => {
    const e = refused({ ...P, subnet: ['198.51.0.0/16'], gateway: ['198.51.0.1'], ipRange: ['198.51.100.0/28'] });
    expect(e.code).toBe('RANGE_CONFLICT');
    expect(e.message).toMatch(/ip-range 198\.51\.100\.0\/28 holds the router 198\.51\.100\.1 \(this host's default route goes through it\)/);
  });

  it('any route’s gateway counts, not only the default route’s', () => {
    const facts = hostFacts();
    facts.routes.push({ family: 4, destination: parseCidr('203.0.113.0/24'), gateway: parseAddress('198.51.100.250'), device: 'eno1' });
    expect(refused({ ...P, ipRange: ['198.51.100.240/28'] }, facts).message).toMatch(/holds the router 198\.51\.100\.250 \(this host's 203\.0\.113\.0\/24 route goes through it\)/);
  });

  it('the shim may not take a router’s address either', () => {
    const e = refused({ ...P, subnet: ['198.51.0.0/16'], gateway: ['198.51.0.1'], ipRange: ['198.51.200.0/24'], hostAddress: ['198.51.100.1'] });
    expect(e.message).toMatch(/host address 198\.51\.100\.1 is the router 198\.51\.100\.1/);
  });
});

describe('an ip-range must leave room for a container beside the shim', () => {
  it('refuses a /32, whose only address the shim takes', () => {
    const e = refused({ ...P, ipRange: ['198.51.100.200/32'] });
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(/--ip-range: ip-range 198\.51\.100\.200\/32 leaves no address for a container: its only address is reserved \(the shim's 198\.51\.100\.200/);
  });

  it('refuses a /128', () => {
    const e = refused({ ...P, ipRange: ['198.51.100.192/27', '2001:db8:1::ff/128'], subnet: ['2001:db8:1::/64'] });
    expect(e.message).toMatch(/ip-range 2001:db8:1::ff\/128 leaves no address for a container/);
  });

  it('refuses a /31 whose other address is an aux address, and accepts a /31 with room for one', () => {
    expect(refused({ ...P, ipRange: ['198.51.100.200/31'], auxAddress: ['dns=198.51.100.200'] }).message).toMatch(/its 2 addresses are all reserved/);
    const n = plan({ ...P, ipRange: ['198.51.100.200/31'] }).networks[0]!;
    expect(n.shim!.address).toBe('198.51.100.201');
  });

  it('even without host access: the shim’s address is reserved in Docker all the same', () => {
    expect(refused({ ...P, ipRange: ['198.51.100.200/32'], hostAccess: false }).message).toMatch(/leaves no address for a container/);
  });
});

describe('subnets that are no LAN', () => {
  const cases: [string, RegExp][] = [
    ['128.0.0.0/1', /--subnet: 128\.0\.0\.0\/1 is not a LAN: a \/1 spans far more than one network segment \(the shortest accepted is \/8\)/],
    ['224.0.0.0/24', /--subnet: 224\.0\.0\.0\/24 is in the multicast block 224\.0\.0\.0\/4/],
    ['127.0.0.0/24', /--subnet: 127\.0\.0\.0\/24 is in the loopback block 127\.0\.0\.0\/8/],
    ['0.0.0.0/0', /--subnet: 0\.0\.0\.0\/0 is not a LAN: a \/0 spans/],
    ['169.254.0.0/16', /is in the link-local block 169\.254\.0\.0\/16/],
    ['240.0.0.0/24', /is in the reserved block 240\.0\.0\.0\/4/],
    ['::/0', /--subnet ::\/0: ::\/0 is not a LAN: a \/0 spans .* shortest accepted is \/48/],
    ['ff02::/64', /--subnet ff02::\/64: ff02::\/64 is in the multicast block ff00::\/8/],
    ['fe80::/64', /fe80::\/64 is in the link-local block fe80::\/10/],
    ['::/64', /::\/64 is in the unspecified address :: and the loopback address ::1/],
  ];
  for (const [subnet, message] of cases) {
    it(`refuses --subnet ${subnet}`, () => {
      const gw = subnet.includes(':') ? [] : [subnet.replace(/\.0\/\d+$/, '.1')];
      const e = refused({ ...P, subnet: [subnet], ...(subnet.includes(':') ? {} : { gateway: gw }) });
      expect(e.code).toBe('CONFIG_INVALID');
      expect(e.message).toMatch(message);
    });
  }

  it('refuses a link-local subnet taken from the parent', () => {
    const facts = hostFacts();
    const eno1 = facts.interfaces.find((i) => i.name === 'eno1')!;
    eno1.addresses = [{ address: parseAddress('169.254.7.9'), prefix: 16 }];
    expect(refused({ ...P, gateway: ['169.254.0.1'] }, facts).message).toMatch(/the IPv4 subnet of eno1: 169\.254\.0\.0\/16 is in the link-local block/);
  });

  it('accepts ordinary LANs, a /8 and a /48 included', () => {
    expect(plan({ ...P, subnet: ['10.0.0.0/8'], gateway: ['10.0.0.1'], ipRange: ['10.1.0.0/24'] }).networks[0]!.subnet).toBe('10.0.0.0/8');
    expect(plan({ ...P, ipRange: ['198.51.100.192/27', '2001:db8:1::ff:0/112'], subnet: ['2001:db8:1::/48'], gateway: ['2001:db8:1::1'] }).networks[0]!.ipv6!.subnet).toBe('2001:db8:1::/48');
  });
});

describe('a gateway on the network or broadcast address', () => {
  it('refuses the network address', () => {
    expect(refused({ ...P, gateway: ['198.51.100.0'] }).message).toMatch(/--gateway: gateway 198\.51\.100\.0 is the network address of 198\.51\.100\.0\/24, which no router can have/);
  });
  it('refuses the broadcast address', () => {
    expect(refused({ ...P, gateway: ['198.51.100.255'] }).message).toMatch(/--gateway: gateway 198\.51\.100\.255 is the broadcast address of 198\.51\.100\.0\/24/);
  });
});

describe('shim names iproute2 reads as keywords', () => {
  for (const name of ['all', 'default', 'help', 'dev', 'link', 'type', 'addr', 'up', 'name', 'ALL']) {
    it(`refuses --shim ${name}`, () => {
      const e = refused({ ...P, shim: name });
      expect(e.code).toBe('CONFIG_INVALID');
      expect(e.message).toMatch(new RegExp(`--shim: interface name '${name}' is not valid: (Linux reserves it|'ip link' reads it as one of its own keywords)`));
    });
  }
  it('accepts names that merely look like words (peer, lan0, show)', () => {
    for (const shim of ['peer', 'lan0', 'show']) expect(plan({ ...P, shim }).networks[0]!.shim!.interface).toBe(shim);
  });
});

describe('routes that drop the ip-range', () => {
  // Captured with iproute2 6.1 in a throwaway namespace: `ip -json route show table main` after
  // ip route add {throw,prohibit,unreachable,blackhole} 198.51.100.{96,128,160,192}/27
  const ROUTES4 =
    '[{"dst":"default","gateway":"198.51.100.1","dev":"eno1","flags":[]},{"dst":"198.51.100.0/24","dev":"eno1","protocol":"kernel","scope":"link","prefsrc":"198.51.100.24","flags":[]},{"type":"throw","dst":"198.51.100.96/27","flags":[]},{"type":"prohibit","dst":"198.51.100.128/27","flags":[]},{"type":"unreachable","dst":"198.51.100.160/27","flags":[]},{"type":"blackhole","dst":"198.51.100.192/27","flags":[]}]';
  // ... and /proc/net/ipv6_route after `ip -6 route add blackhole 2001:db8:1::ffff:0/112` (the last line is the kernel's own catch-all)
  const PROC6 = [
    '20010db80001000000000000ffff0000 70 00000000000000000000000000000000 00 00000000000000000000000000000000 00000400 00000001 00000000 00200200       lo',
    '20010db8000100000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eno1',
    '00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo',
  ].join('\n');
  const facts = (): HostFacts => ({ ...hostFacts(), routes: [...parseRoutes(ROUTES4, 4), ...parseProcIpv6Routes(PROC6)] });

  it('reads reject routes instead of dropping them', () => {
    expect(parseRoutes(ROUTES4, 4).map((r) => r.type ?? 'unicast')).toEqual(['unicast', 'unicast', 'throw', 'prohibit', 'unreachable', 'blackhole']);
    expect(parseProcIpv6Routes(PROC6).map((r) => [r.destination && `${r.destination.prefix}`, r.type])).toEqual([['112', 'reject'], ['64', undefined]]);
  });

  for (const [type, range] of [['blackhole', '198.51.100.192/27'], ['unreachable', '198.51.100.160/27'], ['prohibit', '198.51.100.128/27'], ['throw', '198.51.100.96/27']]) {
    it(`refuses an ip-range with a ${type} route`, () => {
      const e = refused({ ...P, ipRange: [range!] }, facts());
      expect(e.code).toBe('PLAN_UNSAFE');
      expect(e.message).toMatch(new RegExp(`the ${type} route to ${range!.replace(/\./g, '\\.')} already exists and is the ip-range`));
    });
  }

  it('refuses an ip-range that a reject route covers in part, and an IPv6 range with a reject route', () => {
    expect(refused({ ...P, ipRange: ['198.51.100.192/26'] }, facts()).message).toMatch(/the blackhole route to 198\.51\.100\.192\/27 already exists and overlaps the ip-range 198\.51\.100\.192\/26/);
    const e = refused({ ...P, ipRange: ['198.51.100.32/27', '2001:db8:1::ffff:0/112'], subnet: ['2001:db8:1::/64'], gateway: ['2001:db8:1::1'] }, facts());
    expect(e.message).toMatch(/the reject \(blackhole, unreachable, prohibit or throw\) route to 2001:db8:1::ffff:0\/112 already exists/);
  });

  it('ignores them without host access (no shim route to lose)', () => {
    expect(plan({ ...P, ipRange: ['198.51.100.192/27'], hostAccess: false }, facts()).networks[0]!.ipRange).toBe('198.51.100.192/27');
  });
});

describe('--ip-range auto keeps clear of blocks routed elsewhere (#14 item 10)', () => {
  it('skips a block with a route via another gateway instead of picking it and then refusing it', () => {
    const f = hostFacts();
    f.routes.push({ family: 4, destination: parseCidr('198.51.100.192/27'), device: 'eno1', gateway: parseAddress('198.51.100.5') });
    expect(plan({ ...P }, f).networks[0]!.ipRange).toBe('198.51.100.160/27');
  });

  it('skips blocks under blackhole routes and a wider foreign route', () => {
    const f = hostFacts();
    f.routes.push({ family: 4, destination: parseCidr('198.51.100.192/27'), type: 'blackhole' });
    f.routes.push({ family: 4, destination: parseCidr('198.51.100.128/27'), device: 'wg0' });
    f.routes.push({ family: 4, destination: parseCidr('198.51.100.144/28'), device: 'wg0' });
    expect(plan({ ...P }, f).networks[0]!.ipRange).toBe('198.51.100.160/27');
  });

  it('does not count the parent’s own on-link route of a narrower prefix, nor our own shim’s route', () => {
    const f = hostFacts();
    f.routes.push({ family: 4, destination: parseCidr('198.51.100.0/25'), device: 'eno1' });
    f.routes.push({ family: 4, destination: parseCidr('198.51.100.192/27'), device: 'lan-shim' });
    expect(plan({ ...P, subnet: ['198.51.100.0/24'] }, f).networks[0]!.ipRange).toBe('198.51.100.192/27');
  });
});

describe('a Docker network with the same subnet elsewhere', () => {
  it('refuses one on another parent', () => {
    const f = hostFacts('fresh-host', { docker: docker([withSubnet('198.51.100.0/24', { name: 'other', parent: 'eno2' })]) });
    const e = refused({ ...P, ipRange: ['198.51.100.192/27'] }, f);
    expect(e.code).toBe('RANGE_CONFLICT');
    expect(e.message).toMatch(/Docker network 'other' \(a macvlan network on eno2\) already has the subnet 198\.51\.100\.0\/24, which overlaps 198\.51\.100\.0\/24 on eno1/);
  });

  it('refuses a bridge network with an overlapping subnet', () => {
    const f = hostFacts('fresh-host', { docker: docker([withSubnet('198.51.100.0/25', { name: 'br', driver: 'bridge', parent: undefined })]) });
    expect(refused({ ...P, ipRange: ['198.51.100.192/27'] }, f).message).toMatch(/Docker network 'br' \(a bridge network\) already has the subnet 198\.51\.100\.0\/25/);
  });

  it('takes a swarm network’s parent from its config-only network', () => {
    const f = hostFacts('fresh-host', {
      docker: docker(
        [withSubnet('198.51.100.0/24', { name: 'cfg', configOnly: true, parent: 'eno2' }), macvlanNet({ name: 'swarmnet', scope: 'swarm', parent: undefined, configFrom: 'cfg', subnets: [{ subnet: parseCidr('198.51.100.0/24'), auxAddresses: {}, raw: {} }] })],
        '26.1.0',
      ),
    });
    expect(refused({ ...P, ipRange: ['198.51.100.192/27'] }, f).message).toMatch(/'swarmnet' \(a macvlan network on eno2\)/);
  });

  it('allows the same subnet on the same parent (engine 26+), and a different subnet elsewhere', () => {
    const f = hostFacts('fresh-host', { docker: docker([{ ...withSubnet('198.51.100.0/24', { name: 'a' }), subnets: [{ subnet: parseCidr('198.51.100.0/24'), ipRange: parseCidr('198.51.100.64/27'), auxAddresses: {}, raw: {} }] }, withSubnet('203.0.113.0/24', { name: 'b', parent: 'eno2' })], '26.1.0') });
    expect(plan({ ...P, ipRange: ['198.51.100.192/27'] }, f).networks[0]!.ipRange).toBe('198.51.100.192/27');
  });
});

describe('the network and broadcast addresses are Docker’s to skip (#10 item 6)', () => {
  it('accepts a range at the top of the subnet, and puts the shim below the broadcast address', () => {
    const n = plan({ ...P, ipRange: ['198.51.100.128/25'] }).networks[0]!;
    expect(n.ipRange).toBe('198.51.100.128/25');
    expect(n.shim!.address).toBe('198.51.100.254');
  });

  it('accepts a range at the bottom of the subnet when the router is elsewhere', () => {
    const f = hostFacts();
    f.routes = f.routes.map((r) => (r.destination === undefined && r.family === 4 ? { ...r, gateway: parseAddress('198.51.100.254') } : r));
    const n = plan({ ...P, ipRange: ['198.51.100.0/28'], gateway: ['198.51.100.254'] }, f).networks[0]!;
    expect(n.ipRange).toBe('198.51.100.0/28');
    expect(n.shim!.address).toBe('198.51.100.15');
  });

  it('still refuses them as the shim’s address', () => {
    expect(refused({ ...P, ipRange: ['198.51.100.128/25'], hostAddress: ['198.51.100.255'] }).message).toMatch(/host address 198\.51\.100\.255 is the broadcast address/);
    expect(refused({ ...P, ipRange: ['198.51.100.128/25'], hostAddress: ['198.51.100.0'] }).message).toMatch(/host address 198\.51\.100\.0 is the subnet's network address/);
  });
});
