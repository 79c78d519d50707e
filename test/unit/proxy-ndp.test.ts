/**
 * Containers reach the host at its own IPv6 address through the shim's proxy
 * NDP (src/plan/proxy-ndp.ts): which addresses, the changes, the operations,
 * and drift repair as the parent's addresses change.
 */
import { describe, expect, it } from 'vitest';
import { planOperations, shimOperations } from '../../src/apply/operations.js';
import { flagsToRaw } from '../../src/config/flags.js';
import { toDesired } from '../../src/config/to-desired.js';
import type { DockerNetworkFact, HostFacts, InterfaceFact } from '../../src/model/facts.js';
import type { Change, PlannedNetwork } from '../../src/model/plan.js';
import { parseAddress, parseCidr } from '../../src/net/address.js';
import { commandLines } from '../../src/present/commands.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { hostSideChanges } from '../../src/plan/plan-network.js';
import { hostAddressesToProxy } from '../../src/plan/proxy-ndp.js';
import { shimAlias } from '../../src/model/labels.js';
import { parseInterfaces } from '../../src/gather/ip-facts.js';
import { hostFacts } from '../support/fixture-facts.js';

const DUAL = { parent: 'eno1', ipRange: ['198.51.100.192/27', '2001:db8:1::c000/116'], subnet: ['2001:db8:1::/64'], persist: 'none' as const };
const planDual = (facts: HostFacts = hostFacts()) => computePlan([toDesired(flagsToRaw('v6net', DUAL))], facts);
const proxyChanges = (cs: Change[]) => cs.filter((c) => c.kind === 'shim-proxy-ndp').map((c) => `${c.action} ${(c as { address: string }).address}`);

/** The fixture host with the shim as apply makes it, and these proxy entries and sysctls. */
function applied(n: PlannedNetwork, proxies: string[], proxyNdp = true, parentAddresses?: InterfaceFact['addresses']): HostFacts {
  const base = hostFacts();
  const s = n.shim!;
  const shim: InterfaceFact = {
    name: s.interface, index: 99, kind: 'macvlan', up: true, operState: 'UP', lowerUp: true, mtu: 1500, mac: s.mac, link: 'eno1', macvlanMode: 'bridge',
    alias: shimAlias(n.name), wireless: false, proxyNdp,
    addresses: [{ address: parseAddress(s.address), prefix: 32 }, { address: parseAddress(s.address6!), prefix: 128 }],
  };
  const interfaces = base.interfaces.map((i) => (i.name === 'eno1' && parentAddresses ? { ...i, addresses: parentAddresses } : i));
  const routes = [...base.routes, ...s.routes.map((r) => ({ family: (r.includes(':') ? 6 : 4) as 4 | 6, destination: parseCidr(r), device: s.interface }))];
  return { ...base, interfaces: [...interfaces, shim], routes, proxies6: proxies.map((a) => ({ address: parseAddress(a), device: s.interface })) };
}

/** `plan --show-commands`: the lines printed from apply's own operations. */
const showCommands = (p: Parameters<typeof planOperations>[0]) => commandLines(planOperations(p));

describe('which of the host’s addresses the shim answers for', () => {
  it('global, stable addresses of the parent in the subnet; not temporary, deprecated, link-local, other subnets or the shim’s own', () => {
    const [eno1] = parseInterfaces(JSON.stringify([{ ifindex: 2, ifname: 'eno1', addr_info: [
      { family: 'inet6', local: '2001:db8:1::24', prefixlen: 64, scope: 'global' },
      { family: 'inet6', local: '2001:db8:1:0:9d4b:2e17:c0a5:38f1', prefixlen: 64, scope: 'global', temporary: true, dynamic: true },
      { family: 'inet6', local: '2001:db8:1:0:c6ff:fe33:6418:1', prefixlen: 64, scope: 'global', dynamic: true, mngtmpaddr: true },
      { family: 'inet6', local: '2001:db8:1::99', prefixlen: 64, scope: 'global', dynamic: true, preferred_life_time: 0 },
      { family: 'inet6', local: '2001:db8:1::98', prefixlen: 64, scope: 'global', deprecated: true },
      { family: 'inet6', local: '2001:db8:1::97', prefixlen: 64, scope: 'global', tentative: true },
      { family: 'inet6', local: '2001:db8:2::24', prefixlen: 64, scope: 'global' },
      { family: 'inet6', local: 'fe80::c6ff:fe33:6418', prefixlen: 64, scope: 'link' },
      { family: 'inet6', local: '2001:db8:1::cfff', prefixlen: 128, scope: 'global' },
    ] }]));
    expect(hostAddressesToProxy(eno1, parseCidr('2001:db8:1::/64'), '2001:db8:1::cfff')).toEqual(['2001:db8:1::24', '2001:db8:1:0:c6ff:fe33:6418:1']);
  });
});

describe('apply plans proxy NDP for the host’s own IPv6 address', () => {
  it('records it, and switches proxy_ndp and forwarding on for the shim only, then adds the entry', () => {
    const p = planDual();
    const n = p.networks[0]!;
    expect(n.shim?.proxy6).toEqual(['2001:db8:1::24']);
    expect(proxyChanges(p.changes)).toEqual(['create 2001:db8:1::24']);
    const ops = planOperations(p);
    const tail = ops.filter((o) => (o.kind === 'sysctl' && o.family === 'ipv6') || (o.kind === 'ip' && o.line.includes('neigh')));
    expect(tail.map((o) => (o.kind === 'sysctl' ? `sysctl ${o.iface}.${o.key}=${o.value}` : o.kind === 'ip' ? o.line : ''))).toEqual([
      'sysctl v6net-shim.accept_ra=0',
      'sysctl v6net-shim.proxy_ndp=1',
      'sysctl v6net-shim.forwarding=1',
      'neigh replace proxy 2001:db8:1::24 dev v6net-shim',
    ]);
    expect(showCommands(p)).toEqual(
      expect.arrayContaining(['sysctl -w net.ipv6.conf.v6net-shim.proxy_ndp=1', 'sysctl -w net.ipv6.conf.v6net-shim.forwarding=1', 'ip addr add 2001:db8:1::cfff/128 dev v6net-shim nodad', 'ip neigh replace proxy 2001:db8:1::24 dev v6net-shim']),
    );
  });

  it('an IPv4-only network has nothing to proxy', () => {
    const p = computePlan([toDesired(flagsToRaw('v4net', { parent: 'eno1', ipRange: ['198.51.100.192/27'], persist: 'none' }))], hostFacts());
    expect(proxyChanges(p.changes)).toEqual([]);
    expect(p.networks[0]!.shim?.proxy6).toBeUndefined();
  });
});

describe('up, status and doctor keep proxy NDP in step (hostSideChanges)', () => {
  const n = planDual().networks[0]!;

  it('nothing to do when the entry is there and the shim answers', () => {
    expect(proxyChanges(hostSideChanges(n, applied(n, ['2001:db8:1::24'])))).toEqual(['noop 2001:db8:1::24']);
  });

  it('a missing entry, or the sysctls off, is repaired', () => {
    expect(proxyChanges(hostSideChanges(n, applied(n, [])))).toEqual(['create 2001:db8:1::24']);
    const off = hostSideChanges(n, applied(n, ['2001:db8:1::24'], false));
    expect(proxyChanges(off)).toEqual(['create 2001:db8:1::24']);
    const ops = shimOperations(off.filter((c) => c.action !== 'noop'), n);
    // The entry is there: only the sysctls are switched on, and no undo could delete an entry this run did not add.
    expect(ops.map((o) => (o.kind === 'sysctl' ? o.key : o.kind === 'ip' ? o.line : o.kind))).toEqual(['proxy_ndp', 'forwarding']);
    expect(showCommands({ networks: [n], changes: off, warnings: [], unchecked: [] }).join('\n')).not.toContain('neigh replace');
  });

  it('an entry this run adds is removed again on rollback; one that was there is never touched', () => {
    const missing = hostSideChanges(n, applied(n, [])).filter((c) => c.action !== 'noop');
    expect(shimOperations(missing, n).filter((o) => o.kind === 'ip')).toEqual([
      expect.objectContaining({ line: 'neigh replace proxy 2001:db8:1::24 dev v6net-shim', undo: 'neigh del proxy 2001:db8:1::24 dev v6net-shim' }),
    ]);
    const there = hostSideChanges(n, applied(n, ['2001:db8:1::24'], false)).filter((c) => c.action !== 'noop');
    expect(shimOperations(there, n).filter((o) => o.kind === 'ip' && o.undo?.includes('neigh del'))).toEqual([]);
  });

  it('an entry removed because the parent lost the address is put back on rollback', () => {
    const now = [{ address: parseAddress('2001:db8:1::25'), prefix: 64 }];
    const cs = hostSideChanges(n, applied(n, ['2001:db8:1::24'], true, now)).filter((c) => c.action !== 'noop');
    expect(shimOperations(cs, n).find((o) => o.kind === 'ip' && o.line.startsWith('neigh del'))).toMatchObject({ undo: 'neigh add proxy 2001:db8:1::24 dev v6net-shim' });
  });

  it('follows the parent’s addresses as they are now: a new stable one is added, a gone one dropped', () => {
    const now = [{ address: parseAddress('2001:db8:1::25'), prefix: 64 }, { address: parseAddress('2001:db8:1::77'), prefix: 64, temporary: true }];
    const cs = hostSideChanges(n, applied(n, ['2001:db8:1::24'], true, now));
    expect(proxyChanges(cs)).toEqual(['create 2001:db8:1::25', 'delete 2001:db8:1::24']);
    const ops = shimOperations(cs.filter((c) => c.action !== 'noop'), n);
    expect(ops.filter((o) => o.kind === 'ip').map((o) => (o.kind === 'ip' ? o.line : ''))).toEqual([
      'neigh replace proxy 2001:db8:1::25 dev v6net-shim',
      'neigh del proxy 2001:db8:1::24 dev v6net-shim',
    ]);
  });
});

describe('facts and status for proxy NDP', () => {
  it('reads IPv6 proxy entries from ip -json neigh show proxy (IPv4 proxy ARP entries are not ours)', async () => {
    const { parseProxyNeighbours } = await import('../../src/gather/ip-facts.js');
    const json = '[{"dst":"2001:db8:1::24","dev":"v6net-shim","flags":["proxy"]},{"dst":"198.51.100.9","dev":"eno1","flags":["proxy"]}]';
    expect(parseProxyNeighbours(json)).toEqual([{ address: parseAddress('2001:db8:1::24'), device: 'v6net-shim' }]);
    expect(parseProxyNeighbours('[]')).toEqual([]);
  });

  it('status names a missing proxy entry, or the sysctls off, as a problem, and says which address containers reach the host at', async () => {
    const { describeNetwork } = await import('../../src/plan/network-status.js');
    const n = planDual().networks[0]!;
    const state = { schemaVersion: 1 as const, name: n.name, appliedAt: '2026-12-06T00:00:00Z', macvlanctlVersion: '0', network: n };
    const net: DockerNetworkFact = {
      id: 'id1', name: n.name, driver: 'macvlan', scope: 'local', parent: 'eno1', labels: n.labels, options: {}, enableIPv6: true, containers: [], configOnly: false,
      subnets: [
        { subnet: parseCidr(n.subnet), ipRange: parseCidr(n.ipRange), auxAddresses: {}, raw: {} },
        { subnet: parseCidr(n.ipv6!.subnet), ipRange: parseCidr(n.ipv6!.ipRange), auxAddresses: {}, raw: {} },
      ],
    };
    const ok = describeNetwork(n.name, net, applied(n, ['2001:db8:1::24']), state);
    expect(ok.problems).toEqual([]);
    expect(ok.hostAddress6).toBe('2001:db8:1::24');
    expect(ok.shim.proxy6).toEqual(['2001:db8:1::24']);
    const problem = ["shim v6net-shim does not answer for the host's address 2001:db8:1::24 (proxy NDP)"];
    expect(describeNetwork(n.name, net, applied(n, []), state).problems).toEqual(problem);
    expect(describeNetwork(n.name, net, applied(n, ['2001:db8:1::24'], false), state).problems).toEqual(problem);
    // status reads the same diff as up and doctor (hostSideChanges): an entry for an address the parent lost is named too
    const moved = applied(n, ['2001:db8:1::24'], true, [{ address: parseAddress('2001:db8:1::25'), prefix: 64 }]);
    expect(describeNetwork(n.name, net, moved, state).problems).toEqual([
      "shim v6net-shim does not answer for the host's address 2001:db8:1::25 (proxy NDP)",
      'shim v6net-shim still answers for 2001:db8:1::24 (proxy NDP), which eno1 no longer has',
    ]);
  });
});
