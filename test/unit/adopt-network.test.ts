/**
 * Adopting a Docker macvlan network made without an ip-range (issue 12):
 * planned as it is, the shim sharing the host's own address, one /32 route per
 * attached container and never the subnet; the routes follow the containers
 * attached now (up, watch, status, doctor), and are left alone when the
 * engine cannot be asked.
 */
import { describe, expect, it } from 'vitest';
import { flagsToRaw, type NetworkFlags } from '../../src/config/flags.js';
import { toDesired } from '../../src/config/to-desired.js';
import type { DockerNetworkFact, HostFacts } from '../../src/model/facts.js';
import { parseAddress, parseCidr } from '../../src/net/address.js';
import { planOperations } from '../../src/apply/operations.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { hostSideChanges } from '../../src/plan/plan-network.js';
import { containerHostRoutes, isAdoptable, routesOnShim, withAttachedContainers } from '../../src/plan/adopt-network.js';
import { presentPlan } from '../../src/present/plan.js';
import { dockerDifferences } from '../../src/plan/docker-diff.js';
import { docker, hostFacts, mynetWithOtherSettings, noDocker } from '../support/fixture-facts.js';
import { refusalOf } from '../support/refusal.js';
import { renderIfupdown } from '../../src/backends/ifupdown/render.js';
import { renderNetworkd } from '../../src/backends/networkd/render.js';
import { renderNetworkManager } from '../../src/backends/networkmanager/render.js';

const pihole = { id: 'c1', name: 'pihole', ipv4: parseAddress('198.51.100.53') };
const web = { id: 'c2', name: 'web', ipv4: parseAddress('198.51.100.7') };

function byHand(containers: DockerNetworkFact['containers'] = [pihole]): DockerNetworkFact {
  return mynetWithOtherSettings({ containers });
}

function plan(flags: NetworkFlags, facts: HostFacts) {
  return computePlan([toDesired(flagsToRaw('mynet', flags))], facts);
}

describe('adopting a network without an ip-range', () => {
  it('is planned as it is: the host’s own address on the shim, a /32 per container, no route for the subnet', () => {
    const p = plan({ parent: 'eno1', persist: 'none' }, hostFacts('fresh-host', { docker: docker([byHand([pihole, web])]) }));
    const n = p.networks[0]!;
    expect(n.shim).toMatchObject({ interface: 'mynet-shim', address: '198.51.100.24', routes: ['198.51.100.7/32', '198.51.100.53/32'], containerRoutes: true });
    expect(n.ipRange).toBe('');
    expect(p.changes.find((c) => c.kind === 'docker-network')).toMatchObject({ action: 'noop' });
    const lines = planOperations(p).flatMap((o) => (o.kind === 'ip' ? [o.line] : []));
    expect(lines).toContain('route add 198.51.100.53/32 dev mynet-shim');
    expect(lines).toContain('addr add 198.51.100.24/32 dev mynet-shim');
    expect(lines.some((l) => l.includes('198.51.100.0/24'))).toBe(false);
    // Docker's network is never touched.
    expect(planOperations(p).some((o) => o.kind.startsWith('docker'))).toBe(false);
    expect(presentPlan(p)).toMatch(/ip-range\s+none/);
    // doctor's Docker check compares the record with Docker: an adopted network is as Docker has it.
    expect(dockerDifferences(byHand([pihole, web]), n)).toEqual([]);
    // The routes are not in the persisted files: the plan says what brings them back after a reboot.
    expect(p.unchecked).toContain("mynet: the containers' routes are not persisted; after a reboot they come back only while macvlanctl watch runs (install it once: macvlanctl watch --install)");
  });

  it('is not adopted when an ip-range or a host address is given: that asks for a network made to measure', () => {
    const facts = hostFacts('fresh-host', { docker: docker([byHand()]) });
    const desired = (flags: NetworkFlags) => toDesired(flagsToRaw('mynet', flags));
    expect(isAdoptable(desired({ parent: 'eno1' }), byHand())).toBe(true);
    expect(isAdoptable(desired({ parent: 'eno1', ipRange: ['198.51.100.192/27'] }), byHand())).toBe(false);
    expect(isAdoptable(desired({ parent: 'eno1', auxAddress: ['host=198.51.100.223'] }), byHand())).toBe(false);
    expect(isAdoptable(desired({ parent: 'eno1', hostAccess: false } as NetworkFlags), byHand())).toBe(false);
    expect(isAdoptable(desired({ parent: 'eno1' }), mynetWithOtherSettings({ subnets: [{ ...byHand().subnets[0]!, ipRange: parseCidr('198.51.100.192/27') }] }))).toBe(false);
    const p = plan({ parent: 'eno1', ipRange: ['198.51.100.192/27'], persist: 'none' }, facts);
    expect(p.networks[0]!.shim?.containerRoutes).toBeUndefined();
  });

  it('refuses (exit 2) a subnet other than Docker’s', () => {
    const e = refusalOf(() => plan({ parent: 'eno1', subnet: ['203.0.113.0/24'], persist: 'none' }, hostFacts('fresh-host', { docker: docker([byHand()]) })));
    expect(e.exitCode).toBe(2);
  });

  it('refuses (exit 2) a parent with no address in the subnet to share', () => {
    const f = hostFacts('fresh-host', { docker: docker([byHand()]) });
    const bare = { ...f, interfaces: f.interfaces.map((i) => (i.name === 'eno1' ? { ...i, addresses: i.addresses.filter((a) => a.address.family !== 4) } : i)) };
    const e = refusalOf(() => plan({ parent: 'eno1', persist: 'none' }, bare));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/has no address in 198\.51\.100\.0\/24/);
  });
});

describe('the routes follow the containers attached now', () => {
  const adopted = () => plan({ parent: 'eno1', persist: 'none' }, hostFacts('fresh-host', { docker: docker([byHand()]) })).networks[0]!;
  const shimUp = (routes: string[]): HostFacts => {
    const f = hostFacts('fresh-host');
    const eno1 = f.interfaces.find((i) => i.name === 'eno1')!;
    const n = adopted();
    return {
      ...f,
      interfaces: [
        ...f.interfaces,
        { ...eno1, name: 'mynet-shim', index: 99, kind: 'macvlan', infoKind: 'macvlan', link: 'eno1', macvlanMode: 'bridge', mac: n.shim!.mac, alias: 'macvlanctl:mynet', arpNotify: true, up: true, addresses: [{ address: parseAddress('198.51.100.24'), prefix: 32 }] },
      ],
      routes: [...f.routes, ...routes.map((r) => ({ family: 4 as const, destination: parseCidr(r), device: 'mynet-shim', protocol: 'boot', scope: 'link' }))],
    };
  };

  it('a container started later gets its route, a removed one loses it', () => {
    const facts = shimUp(['198.51.100.53/32']);
    const now = withAttachedContainers(adopted(), docker([byHand([web])]), facts);
    const changes = hostSideChanges(now, facts).filter((c) => c.action !== 'noop');
    expect(changes.map((c) => `${c.kind} ${c.action} ${'destination' in c ? c.destination : ''}`)).toEqual(['shim-route create 198.51.100.7/32', 'shim-route delete 198.51.100.53/32']);
    expect(changes.find((c) => c.action === 'delete')!.reason).toMatch(/no container is attached at this address/);
  });

  it('nothing is added or taken away when the engine cannot be asked', () => {
    const facts = shimUp(['198.51.100.53/32', '198.51.100.99/32']);
    const now = withAttachedContainers(adopted(), noDocker(), facts);
    expect(now.shim!.routes).toEqual(['198.51.100.53/32', '198.51.100.99/32']);
    expect(hostSideChanges(now, facts).filter((c) => c.action !== 'noop')).toEqual([]);
  });

  it('a network with an ip-range is left as it is', () => {
    const n = { ...adopted(), shim: { ...adopted().shim!, containerRoutes: undefined, routes: ['198.51.100.192/27'] } };
    expect(withAttachedContainers(n, docker([byHand([web])]), hostFacts())).toBe(n);
  });

  it('with IPv6, a /128 per container too; the shim’s own /128 is never taken for a container’s', () => {
    const c = [{ ipv4: parseAddress('198.51.100.53'), ipv6: parseAddress('2001:db8:1::53') }];
    expect(containerHostRoutes(c)).toEqual(['198.51.100.53/32']);
    expect(containerHostRoutes(c, { ipv6: true })).toEqual(['198.51.100.53/32', '2001:db8:1::53/128']);
    const facts = { routes: ['2001:db8:1::24/128', '2001:db8:1::53/128', 'fe80::/64', '198.51.100.53/32'].map((r) => ({ family: (r.includes(':') ? 6 : 4) as 4 | 6, destination: parseCidr(r), device: 'mynet-shim' })) };
    expect(routesOnShim(facts, 'mynet-shim', '2001:db8:1::24')).toEqual(['2001:db8:1::53/128', '198.51.100.53/32']);
  });

  it('one sorted /32 per container address', () => {
    expect(containerHostRoutes([{ ipv4: parseAddress('198.51.100.200') }, { ipv4: parseAddress('198.51.100.3') }, { ipv4: parseAddress('198.51.100.3') }, {}])).toEqual(['198.51.100.3/32', '198.51.100.200/32']);
  });

  it('a dual-stack network: the persisted shim keeps the host’s IPv6 address (IPv6 is not disabled on it)', () => {
    const v6 = { subnet: parseCidr('2001:db8:1::/64'), gateway: parseAddress('2001:db8:1::1'), auxAddresses: {}, raw: { Subnet: '2001:db8:1::/64', Gateway: '2001:db8:1::1' } };
    const net = mynetWithOtherSettings({ enableIPv6: true, subnets: [...mynetWithOtherSettings().subnets, v6], containers: [{ ...pihole, ipv6: parseAddress('2001:db8:1::53') }] });
    const n = plan({ parent: 'eno1', persist: 'none' }, hostFacts('fresh-host', { docker: docker([net]) })).networks[0]!;
    expect(n.shim).toMatchObject({ address6: '2001:db8:1::24', containerRoutes: true });
    // What is persisted: the shim without the per-container routes (src/plan/plan-network.ts adoptedStep).
    const persisted = { ...n, shim: { ...n.shim!, routes: [] } };
    const ifupdown = renderIfupdown(persisted)[0]!.content;
    expect(ifupdown).toContain('ip -6 addr replace 2001:db8:1::24/128 dev mynet-shim nodad');
    expect(ifupdown).not.toContain('disable_ipv6');
    const networkd = renderNetworkd(persisted, { parentNetworkFile: '/etc/systemd/network/10-eno1.network' }).map((f) => f.content).join('\n');
    expect(networkd).toContain('Address=2001:db8:1::24/128');
    expect(networkd).not.toContain('LinkLocalAddressing=no');
    expect(renderNetworkManager(persisted).map((f) => f.content).join('\n')).toContain('2001:db8:1::24/128');
  });

  it('no gratuitous ARP from the shim: it would announce the host’s own address at the shim’s MAC', () => {
    const n = adopted();
    const sysctls = planOperations(plan({ parent: 'eno1', persist: 'none' }, hostFacts('fresh-host', { docker: docker([byHand()]) }))).flatMap((o) => (o.kind === 'sysctl' && o.key === 'arp_notify' ? [o.value] : []));
    expect(sysctls).toEqual(['0']);
    expect(renderIfupdown({ ...n, shim: { ...n.shim!, routes: [] } })[0]!.content).toContain('pre-up echo 0 > /proc/sys/net/ipv4/conf/mynet-shim/arp_notify');
    // arp_notify off on an adopted shim that is up is as it should be, not a drift to repair.
    const off = shimUp(['198.51.100.53/32']);
    off.interfaces = off.interfaces.map((i) => (i.name === 'mynet-shim' ? { ...i, arpNotify: false } : i));
    expect(hostSideChanges(n, off).filter((c) => c.action !== 'noop')).toEqual([]);
  });
});
