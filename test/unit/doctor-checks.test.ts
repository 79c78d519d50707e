/**
 * doctor's checks, one pure function each, on fixture facts: host facts from
 * real `ip -json` output (lab-host: eno1 .24, mynet-shim .223 with MAC
 * 02:6d:76:6c:00:01 and the route .192/27), the Docker network as a real
 * dockerd 20.10 reported it (web at .192), the record as the real planner
 * makes it, neighbour entries as the kernel printed them, and DHCP offers
 * from a real dnsmasq (pool .100–.199). Each check is shown passing and
 * failing (or warning, or skipping) on a small change to those facts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeNetwork } from '../../src/plan/network-status.js';
import { flagsToRaw, type NetworkFlags } from '../../src/config/flags.js';
import { toDesired } from '../../src/config/to-desired.js';
import { dockerSettingsCheck } from '../../src/doctor/checks/docker-settings.js';
import { dhcpCheck } from '../../src/doctor/checks/lan-dhcp.js';
import { macvlanFramesCheck } from '../../src/doctor/checks/lan-macvlan-frames.js';
import { squattersCheck } from '../../src/doctor/checks/lan-squatters.js';
import { parentCheck, parentWirelessCheck } from '../../src/doctor/checks/parent.js';
import { persistenceCheck } from '../../src/doctor/checks/persistence.js';
import { reachCheck } from '../../src/doctor/checks/reach.js';
import { shimCheck } from '../../src/doctor/checks/shim.js';
import { networkFromLabels } from '../../src/plan/network-from-labels.js';
import { parseNeighbour, sweepSubnet } from '../../src/doctor/gather-lan.js';
import { checkLine, presentDoctor } from '../../src/present/doctor.js';
import { CHECKS, checkNetwork, doctorReport } from '../../src/doctor/run-checks.js';
import type { DoctorNetworkFacts } from '../../src/doctor/types.js';
import type { DockerNetworkFact, HostFacts, InterfaceFact, ManagedFile } from '../../src/model/facts.js';
import type { DhcpOfferSeen, LanScan } from '../../src/model/lan.js';
import type { PlannedNetwork } from '../../src/model/plan.js';
import { parseAddress } from '../../src/net/address.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import type { ManagerFacts } from '../../src/model/manager-facts.js';
import { renderPersistence } from '../../src/backends/render.js';
import { networkFactFromEngine } from '../../src/gather/docker-facts.js';
import { gatherManagerFacts } from '../../src/gather/persist-facts.js';
import type { NetworkState } from '../../src/system/state-store.js';
import { docker, fixture, hostFacts, ipFacts, noDocker } from '../support/fixture-facts.js';

const SELF = ['/usr/bin/node', '/opt/macvlanctl/bin/macvlanctl'];
const RECIPE: NetworkFlags = { parent: 'eno1', ipRange: ['198.51.100.192/27'], auxAddress: ['host=198.51.100.223'], persist: 'systemd' };
/** The shim's MAC in the lab-host fixture (set by hand when it was captured). */
const SHIM_MAC = '02:6d:76:6c:00:01';
const WEB_MAC = '02:42:c6:33:64:c0';
const GATEWAY_MAC = '12:1c:9b:e2:0c:55';

const MYNET: DockerNetworkFact = {
  ...networkFactFromEngine(JSON.parse(fixture('docker/network-mynet.json'))),
  labels: { 'io.macvlanctl.managed': 'true', 'io.macvlanctl.shim': 'mynet-shim', 'io.macvlanctl.host-address': '198.51.100.223', 'io.macvlanctl.shim-mac': SHIM_MAC },
};

function offersFrom(file: string): DhcpOfferSeen[] {
  return fixture(file)
    .trim()
    .split('\n')
    .map((l) => {
      const [clientMac, address] = l.split(' ');
      return { address: address!, server: '198.51.100.1', clientMac: clientMac! };
    });
}

/** A scan; by default the DHCP server answered nothing (the real dnsmasq's pool .100–.199 reaches into the recipe's range: see lan-dhcp). */
function scan(live: { address: string; mac: string }[], offers: DhcpOfferSeen[] = []): LanScan {
  return {
    parent: 'eno1',
    subnet: '198.51.100.0/24',
    scannedAt: '2026-12-01T10:00:00.000Z',
    durationMs: 3600,
    live,
    dhcp: { servers: offers.length ? [{ address: '198.51.100.1' }] : [], offers },
  };
}

/** What a scan of the healthy LAN hears: the gateway, our container and our shim. */
const HEALTHY_LIVE = [
  { address: '198.51.100.1', mac: GATEWAY_MAC },
  { address: '198.51.100.192', mac: WEB_MAC },
  { address: '198.51.100.223', mac: SHIM_MAC },
];

let managers: ManagerFacts;
let record: NetworkState;
beforeAll(async () => {
  const empty = mkdtempSync(join(tmpdir(), 'mvl-doctor-root-'));
  managers = await gatherManagerFacts(empty, { live: false });
  rmSync(empty, { recursive: true });
  // The record as apply writes it: the planner's network (its shim MAC is the one the fixture's shim carries).
  const planned = computePlan([toDesired(flagsToRaw('mynet', RECIPE))], host([])).networks[0]!;
  planned.shim!.mac = SHIM_MAC;
  record = { schemaVersion: 1, name: 'mynet', appliedAt: '2026-12-01T09:00:00.000Z', macvlanctlVersion: '0.1.0', network: planned };
});

/** Our files on disk exactly as the record says. */
function onDisk(n: PlannedNetwork): ManagedFile[] {
  const p = n.persistence!;
  return [
    ...p.files.map((f) => ({ path: f.path, network: n.name, content: f.content, mode: f.mode })),
    ...(p.enable ? [{ path: p.enable.path, network: n.name, symlink: p.enable.target }] : []),
  ];
}

function host(managed: ManagedFile[], over: Partial<HostFacts> = {}): HostFacts {
  return hostFacts('lab-host', { docker: docker([MYNET]), persistence: { managed, selfCommand: SELF, managers }, ...over });
}

/** The healthy network, with `over` applied; host changes go through `hostOver` so that status is described from them. */
function facts(over: Partial<DoctorNetworkFacts> = {}, hostOver: Partial<HostFacts> = {}, recArg: NetworkState | null = record): DoctorNetworkFacts {
  const rec = recArg ?? undefined;
  const h = host(rec?.network.persistence ? onDisk(rec.network) : [], hostOver);
  const net = h.docker.available ? h.docker.networks.find((n) => n.name === 'mynet') : undefined;
  const f: DoctorNetworkFacts = {
    name: 'mynet',
    host: h,
    status: describeNetwork('mynet', net, h, rec),
    lan: {
      done: true,
      scan: scan(HEALTHY_LIVE),
      gateway: '198.51.100.1',
      gatewayAnswer: { mac: GATEWAY_MAC },
      gatewayAsked: 1,
      parentNeighbour: parseNeighbour(fixture('scan/neigh-mid-sweep.json'), '198.51.100.1')!,
    },
    reach: [{ name: 'web', address: '198.51.100.192', fromShim: true, fromHost: true, hostAddress: '198.51.100.24' }],
    commands: { up: 'sudo macvlanctl up mynet', apply: 'sudo macvlanctl apply mynet …' },
    ...over,
  };
  if (net) f.docker = net;
  if (rec) f.record = rec;
  return f;
}

function withInterface(name: string, change: Partial<InterfaceFact>): Partial<HostFacts> {
  const { interfaces, routes } = ipFacts('lab-host');
  return { interfaces: interfaces.map((i) => (i.name === name ? { ...i, ...change } : i)), routes };
}

function without(name: string): Partial<HostFacts> {
  const { interfaces, routes } = ipFacts('lab-host');
  return { interfaces: interfaces.filter((i) => i.name !== name), routes: routes.filter((r) => r.device !== name) };
}

describe('the healthy network', () => {
  it('passes every check', () => {
    const report = checkNetwork(facts());
    expect(report.checks.map((c) => `${c.id} ${c.verdict}`)).toEqual([
      'parent pass',
      'parent-wireless pass',
      'lan-macvlan-frames pass',
      'docker-settings pass',
      'shim pass',
      'reach pass',
      'lan-squatters pass',
      'lan-dhcp pass',
      'persistence pass',
    ]);
    expect(report.ok).toBe(true);
    expect(report.checks.length).toBe(CHECKS.length);
  });
});

describe('parent', () => {
  it('passes when present and up', () => {
    expect(parentCheck(facts())).toMatchObject({ verdict: 'pass', detail: 'eno1 is up, with carrier (veth, MAC 02:00:c6:33:64:18)' });
  });
  it('fails when it does not exist', () => {
    const r = parentCheck(facts({}, without('eno1')));
    expect(r).toMatchObject({ verdict: 'fail', detail: expect.stringMatching(/^eno1 does not exist on this host/) });
  });
  it('fails when it is down, with the planner’s words and fix', () => {
    const r = parentCheck(facts({}, withInterface('eno1', { up: false, operState: 'DOWN', lowerUp: false })));
    expect(r.verdict).toBe('fail');
    expect(r.detail).toMatch(/administratively down/);
    expect(r.fix).toMatch(/ip link set eno1 up/);
  });
  it('warns when it is a bridge port', () => {
    const r = parentCheck(facts({}, withInterface('eno1', { master: 'br-lan', masterKind: 'bridge' })));
    expect(r).toMatchObject({ verdict: 'warn', fix: 'use the bridge as the parent: --parent br-lan' });
  });
});

describe('parent-wireless', () => {
  it('passes on a wired parent', () => {
    expect(parentWirelessCheck(facts()).verdict).toBe('pass');
  });
  it('warns on a wireless parent and suggests ipvlan L2', () => {
    const r = parentWirelessCheck(facts({}, { ...ipFacts('lab-host', ['eno1']) }));
    expect(r.verdict).toBe('warn');
    expect(r.fix).toMatch(/ipvlan L2/);
    expect(r.fix).toMatch(/-d ipvlan -o parent=eno1 -o ipvlan_mode=l2/);
  });
});

describe('lan-macvlan-frames', () => {
  const lan = (over: object) => ({ ...(facts().lan as Extract<DoctorNetworkFacts['lan'], { done: true }>), ...over });
  it('passes when the gateway answered the probe macvlan', () => {
    expect(macvlanFramesCheck(facts())).toMatchObject({ verdict: 'pass', detail: expect.stringContaining(`got an answer from ${GATEWAY_MAC}`) });
  });
  it('fails when the gateway answers the host but not the probe, and nobody else answered it', () => {
    const f = facts({ lan: { ...lan({ scan: scan(HEALTHY_LIVE.slice(1)), gatewayAsked: 3 }), gatewayAnswer: undefined } as never });
    delete (f.lan as { gatewayAnswer?: unknown }).gatewayAnswer;
    const r = macvlanFramesCheck(f);
    expect(r.verdict).toBe('fail');
    expect(r.detail).toMatch(/^the gateway 198\.51\.100\.1 \(MAC 12:1c:9b:e2:0c:55\) answers the host through eno1's own MAC but did not answer a macvlan child of eno1 with a MAC of its own \(asked 3 times\)/);
    expect(r.fix).toMatch(/Promiscuous mode and Forged transmits/);
    expect(r.fix).toMatch(/MAC address spoofing/);
    expect(r.fix).toMatch(/port security/);
  });
  it('only warns when other hosts answered the probe (frames get through; the gateway ignores 0.0.0.0 probes)', () => {
    const live = [...HEALTHY_LIVE.slice(1), { address: '198.51.100.77', mac: 'ba:16:c8:96:67:86' }];
    const f = facts({ lan: lan({ scan: scan(live), gatewayAsked: 3 }) });
    delete (f.lan as { gatewayAnswer?: unknown }).gatewayAnswer;
    expect(macvlanFramesCheck(f)).toMatchObject({ verdict: 'warn', detail: expect.stringContaining('1 other host(s) on the LAN did') });
  });
  it('warns that it cannot tell when the gateway answered nobody (FAILED entry from the kernel)', () => {
    const f = facts({ lan: lan({ scan: scan([]), gatewayAsked: 3, parentNeighbour: parseNeighbour(fixture('scan/neigh-after-1s.json'), '198.51.100.2') }) });
    delete (f.lan as { gatewayAnswer?: unknown }).gatewayAnswer;
    expect(macvlanFramesCheck(f)).toMatchObject({ verdict: 'warn', detail: expect.stringContaining('(its entry is FAILED)') });
  });
  it('does not take a PERMANENT (hand-set) gateway entry for an answer to the host', () => {
    const f = facts({ lan: { ...lan({ scan: scan([]), gatewayAsked: 3, parentNeighbour: { mac: '12:1c:9b:e2:0c:55', state: ['PERMANENT'] } }), gatewayAnswer: undefined } as never });
    delete (f.lan as { gatewayAnswer?: unknown }).gatewayAnswer;
    expect(macvlanFramesCheck(f).verdict).toBe('warn');
  });
  it('is skipped, with the reason, when the LAN was not probed', () => {
    const r = macvlanFramesCheck(facts({ lan: { done: false, reason: '--no-scan was given' } }));
    expect(r).toMatchObject({ verdict: 'skip', detail: 'the LAN was not probed: --no-scan was given' });
  });
});

describe('docker-settings', () => {
  it('passes when Docker matches the record', () => {
    expect(dockerSettingsCheck(facts())).toMatchObject({
      verdict: 'pass',
      detail: 'macvlan bridge on eno1, 198.51.100.0/24 gateway 198.51.100.1, range 198.51.100.192/27, as the record says',
    });
  });
  it('fails naming each difference from the record', () => {
    const moved = structuredClone(record);
    moved.network.docker.ipam[0]!.IPRange = '198.51.100.160/27';
    moved.network.docker.ipam[0]!.AuxiliaryAddresses = { host: '198.51.100.191' };
    const r = dockerSettingsCheck(facts({}, {}, moved));
    expect(r.verdict).toBe('fail');
    expect(r.data!.differences).toEqual(['ip-range 198.51.100.192/27 ≠ 198.51.100.160/27', 'aux host 198.51.100.223 ≠ 198.51.100.191']);
    expect(r.fix).toMatch(/--replace .*stop or disconnect its 1 container/);
  });
  it('compares with the declaration when one is given', () => {
    const declared = structuredClone(record.network);
    declared.mode = 'private';
    const r = dockerSettingsCheck(facts({ declared: { network: declared } }));
    expect(r).toMatchObject({ verdict: 'fail', detail: "Docker's network differs from the declaration: mode bridge ≠ private" });
  });
  it('fails when the declaration cannot be planned, with the planner’s message', () => {
    expect(dockerSettingsCheck(facts({ declared: { error: 'network mynet: parent eth9 does not exist' } }))).toMatchObject({ verdict: 'fail', detail: expect.stringContaining('parent eth9 does not exist') });
  });
  it('fails when Docker has no such network, or is down', () => {
    expect(dockerSettingsCheck(facts({}, { docker: docker([]) }))).toMatchObject({ verdict: 'fail', detail: 'Docker has no network named mynet' });
    expect(dockerSettingsCheck(facts({}, { docker: noDocker() }))).toMatchObject({ verdict: 'fail', detail: expect.stringMatching(/^Docker is not reachable at unix:\/\/\/nonexistent\.sock/) });
    const denied = { ...noDocker(), reason: 'permission denied on the Docker engine socket /run/docker.sock: run as root (sudo)', code: 'NOT_PERMITTED' };
    expect(dockerSettingsCheck(facts({}, { docker: denied })).fix).toBe('run doctor as root (sudo), or as a member of the docker group');
  });
  it('a Compose network that `docker compose down` removed: says so, and that `docker compose up` re-creates it (not apply)', () => {
    const composed = structuredClone(record);
    composed.network.compose = { project: 'home_lab', key: 'lan', external: false };
    const r = dockerSettingsCheck(facts({}, { docker: docker([]) }, composed));
    expect(r).toMatchObject({ verdict: 'fail', detail: 'the Docker network mynet is gone (Compose project home_lab removes it on down); `docker compose up` re-creates it from the file' });
    expect(r.fix).toMatch(/^run docker compose up -d in the directory of project home_lab/);
  });
  it('the network Compose re-created from the file (its labels, not ours) passes: no --replace advice', () => {
    const composed = structuredClone(record);
    composed.network.compose = { project: 'home_lab', key: 'lan', external: false };
    const byCompose = { ...MYNET, labels: { 'com.docker.compose.project': 'home_lab', 'com.docker.compose.network': 'lan' } };
    const r = dockerSettingsCheck(facts({ docker: byCompose }, { docker: docker([byCompose]) }, composed));
    expect(r).toMatchObject({ verdict: 'pass', detail: expect.stringContaining('made by Compose for project home_lab') });
  });
  it('warns when there is nothing to compare with (no record, no -f)', () => {
    expect(dockerSettingsCheck(facts({}, {}, null)).verdict).toBe('warn');
  });
});

describe('shim', () => {
  it('passes when the shim is as recorded', () => {
    expect(shimCheck(facts())).toMatchObject({ verdict: 'pass', detail: `mynet-shim up, 198.51.100.223/32, MAC ${SHIM_MAC}, route 198.51.100.192/27` });
  });
  it('fails when it is missing, naming the cause only, with up as the fix', () => {
    const r = shimCheck(facts({}, without('mynet-shim')));
    expect(r).toMatchObject({ verdict: 'fail', detail: 'mynet-shim does not exist: the host cannot reach its containers, nor they the host', fix: 'sudo macvlanctl up mynet' });
  });
  it('fails when its route is missing, or it is down', () => {
    const { interfaces, routes } = ipFacts('lab-host');
    const noRoute = shimCheck(facts({}, { interfaces, routes: routes.filter((r) => r.device !== 'mynet-shim') }));
    expect(noRoute.detail).toMatch(/^the route 198\.51\.100\.192\/27 dev mynet-shim is missing/);
    const down = shimCheck(facts({}, withInterface('mynet-shim', { up: false, operState: 'DOWN' })));
    expect(down).toMatchObject({ verdict: 'fail', detail: expect.stringMatching(/^mynet-shim is down/) });
  });
  it('fails when its MAC is not the fixed one', () => {
    const r = shimCheck(facts({}, withInterface('mynet-shim', { mac: '02:00:00:00:00:99' })));
    expect(r.detail).toMatch(/must be re-created \(MAC 02:00:00:00:00:99 ≠ 02:6d:76:6c:00:01\)/);
  });
  it('without a record, takes the shim from the Docker labels, and apply is the fix', () => {
    const r = shimCheck(facts({}, without('mynet-shim'), null));
    expect(r).toMatchObject({ verdict: 'fail', fix: 'sudo macvlanctl apply mynet …' });
  });
  it('is skipped for a network without host access', () => {
    const noShim = structuredClone(record);
    delete noShim.network.shim;
    expect(shimCheck(facts({}, {}, noShim)).verdict).toBe('skip');
  });
});

describe('reach', () => {
  it('passes when each container answers both ways', () => {
    expect(reachCheck(facts())).toMatchObject({ verdict: 'pass', detail: 'web 198.51.100.192: reached both ways' });
  });
  it('over IPv6 too: a container that does not reach the host’s own IPv6 address fails, pointing at proxy NDP', () => {
    const both = { name: 'web', address: '198.51.100.192', fromShim: true, fromHost: true, hostAddress: '198.51.100.24', address6: '2001:db8:1::c000', fromShim6: true, hostAddress6: '2001:db8:1::24' };
    expect(reachCheck(facts({ reach: [{ ...both, fromHost6: true }] }))).toMatchObject({ verdict: 'pass', detail: 'web 198.51.100.192 and 2001:db8:1::c000: reached both ways' });
    const r = reachCheck(facts({ reach: [{ ...both, fromHost6: false }] }));
    expect(r).toMatchObject({ verdict: 'fail', detail: "only one way: web 2001:db8:1::c000 (it answers the shim but not the host's own IPv6 address 2001:db8:1::24)" });
    expect(r.fix).toMatch(/^the shim must answer for 2001:db8:1::24 by proxy NDP/);
    expect(reachCheck(facts({ reach: [{ ...both, fromShim6: false }] }))).toMatchObject({ verdict: 'fail', detail: 'the host does not reach web 2001:db8:1::c000' });
  });

  it('fails naming a container the host does not reach', () => {
    const r = reachCheck(facts({ reach: [{ name: 'web', address: '198.51.100.192', fromShim: false, fromHost: false, hostAddress: '198.51.100.24' }] }));
    expect(r).toMatchObject({ verdict: 'fail', detail: 'the host does not reach web 198.51.100.192' });
  });
  it('fails when the container answers the shim but not the host’s own address', () => {
    const r = reachCheck(facts({ reach: [{ name: 'web', address: '198.51.100.192', fromShim: true, fromHost: false, hostAddress: '198.51.100.24' }] }));
    expect(r.detail).toBe("only one way: web 198.51.100.192 (it answers the shim but not the host's own address 198.51.100.24)");
  });
  it('is skipped when no container is attached', () => {
    const empty = { ...MYNET, containers: [] };
    expect(reachCheck(facts({ reach: [] }, { docker: docker([empty]) }))).toMatchObject({ verdict: 'skip', detail: 'no container is attached to the network' });
  });
});

describe('lan-squatters', () => {
  it('passes when only the gateway, our container and our shim answer', () => {
    expect(squattersCheck(facts()).verdict).toBe('pass');
  });
  it('fails naming a host inside the ip-range by address and MAC, and ignores hosts outside it', () => {
    const live = [...HEALTHY_LIVE, { address: '198.51.100.200', mac: '02:5A:00:00:00:C8' }, { address: '198.51.100.77', mac: 'ba:16:c8:96:67:86' }];
    const r = squattersCheck(facts({ lan: { ...(facts().lan as object), scan: scan(live) } as DoctorNetworkFacts['lan'] }));
    expect(r.verdict).toBe('fail');
    expect(r.data!.squatters).toEqual([{ address: '198.51.100.200', mac: '02:5a:00:00:00:c8', where: 'ip-range' }]);
    expect(r.detail).toContain('198.51.100.200 (MAC 02:5a:00:00:00:c8) answers inside');
  });
  it('fails on the shim’s address answered by another MAC, and on a container’s address answered by another MAC', () => {
    const live = [HEALTHY_LIVE[0]!, { address: '198.51.100.223', mac: '02:99:00:00:00:df' }, { address: '198.51.100.192', mac: '02:99:00:00:00:c0' }];
    const r = squattersCheck(facts({ lan: { ...(facts().lan as object), scan: scan(live) } as DoctorNetworkFacts['lan'] }));
    expect(r.data!.squatters).toEqual([
      { address: '198.51.100.223', mac: '02:99:00:00:00:df', where: 'shim address', duplicates: "this host's mynet-shim" },
      { address: '198.51.100.192', mac: '02:99:00:00:00:c0', where: 'ip-range', duplicates: 'container web' },
    ]);
  });
  it('dual-stack: names an IPv6 neighbour inside the IPv6 ip-range or on the shim’s IPv6 address, not one outside or our shim', () => {
    const dual = structuredClone(record);
    const range6 = '2001:db8:1:0:ffff:ffff:ffff:0/112';
    const shim6 = '2001:db8:1:0:ffff:ffff:ffff:ffff';
    dual.network.ipv6 = { subnet: '2001:db8:1::/64', gateway: '2001:db8:1::1', ipRange: range6, ipRangeSource: 'auto', auxAddresses: { host: shim6 } };
    dual.network.shim!.address6 = shim6;
    const live6 = [
      { address: '2001:db8:1::1', mac: GATEWAY_MAC },
      { address: shim6, mac: SHIM_MAC },
      { address: '2001:db8:1::7', mac: '02:5a:00:00:00:07' },
      { address: '2001:db8:1:0:ffff:ffff:ffff:42', mac: '02:5a:00:00:00:42' },
    ];
    const lan = { lan: { ...(facts().lan as object), scan: { ...scan(HEALTHY_LIVE), subnet6: '2001:db8:1::/64', live6 } } as DoctorNetworkFacts['lan'] };
    const r = squattersCheck(facts(lan, {}, dual));
    expect(r.title).toBe(`nobody else in 198.51.100.192/27 or ${range6} or on 198.51.100.223 or ${shim6}`);
    expect(r.verdict).toBe('fail');
    expect(r.data!.squatters).toEqual([{ address: '2001:db8:1:0:ffff:ffff:ffff:42', mac: '02:5a:00:00:00:42', where: 'ip-range' }]);
    expect(r.detail).toContain('asked the IPv6 neighbours in 2001:db8:1::/64');
    // Its own IPv6 address answered by another MAC is a squatter on the shim's address.
    const onShim = { lan: { ...(facts().lan as object), scan: { ...scan(HEALTHY_LIVE), subnet6: '2001:db8:1::/64', live6: [{ address: shim6, mac: '02:99:00:00:00:ff' }] } } as DoctorNetworkFacts['lan'] };
    expect(squattersCheck(facts(onShim, {}, dual)).data!.squatters).toEqual([{ address: shim6, mac: '02:99:00:00:00:ff', where: 'shim address' }]);
    // A declared IPv6 aux address (a printer) and the IPv6 gateway inside the range are not squatters, however written.
    const printer6 = structuredClone(dual);
    printer6.network.ipv6!.auxAddresses = { ...printer6.network.ipv6!.auxAddresses, printer: '2001:db8:1:0:ffff:ffff:ffff:0042' };
    expect(squattersCheck(facts(lan, {}, printer6)).verdict).toBe('pass');
    // An IPv4-only network ignores IPv6 neighbours altogether.
    expect(squattersCheck(facts(lan)).verdict).toBe('pass');
  });
  it('leaves out the gateway and aux-addresses, which Docker never hands out (a declared printer inside the range)', () => {
    const printer = { address: '198.51.100.210', mac: '02:5a:00:00:00:d2' };
    const withPrinter: DockerNetworkFact = { ...MYNET, subnets: [{ ...MYNET.subnets[0]!, auxAddresses: { ...MYNET.subnets[0]!.auxAddresses, printer: parseAddress(printer.address) } }] };
    const lanWith = (live: { address: string; mac: string }[]) => ({ lan: { ...(facts().lan as object), scan: scan(live) } as DoctorNetworkFacts['lan'] });
    expect(squattersCheck(facts(lanWith([...HEALTHY_LIVE, printer]), { docker: docker([withPrinter]) })).verdict).toBe('pass');
    expect(squattersCheck(facts(lanWith([...HEALTHY_LIVE, printer]))).data!.squatters).toEqual([{ ...printer, where: 'ip-range' }]);
    // With no ip-range, Docker takes from the whole subnet, but never the gateway.
    const wholeSubnet = facts(lanWith(HEALTHY_LIVE));
    wholeSubnet.status = { ...wholeSubnet.status };
    delete wholeSubnet.status.ipRange;
    const noRange = structuredClone(record);
    noRange.network.ipRange = '';
    expect(squattersCheck({ ...wholeSubnet, record: noRange }).verdict).toBe('pass');
  });
  it('is skipped when the scan had no live sweep', () => {
    const s = scan(HEALTHY_LIVE);
    delete s.live;
    expect(squattersCheck(facts({ lan: { ...(facts().lan as object), scan: s } as DoctorNetworkFacts['lan'] })).verdict).toBe('skip');
  });
});

describe('lan-dhcp', () => {
  const withOffers = (offers: DhcpOfferSeen[], range?: string) => {
    const f = facts({ lan: { ...(facts().lan as object), scan: scan(HEALTHY_LIVE, offers) } as DoctorNetworkFacts['lan'] });
    if (range) f.status = { ...f.status, ipRange: range };
    return f;
  };
  it('passes when every offer and the estimated pool lie outside the range', () => {
    // Six offers over .101–.188: the pool is estimated at .53–.236, clear of .240/28.
    const r = dhcpCheck(withOffers(offersFrom('dhcp/dnsmasq-hash-6.txt'), '198.51.100.240/28'));
    expect(r.verdict).toBe('pass');
    expect(r.detail).toBe('6 offer(s) from 198.51.100.1, none inside 198.51.100.240/28; 198.51.100.1 pool ≈ 198.51.100.53–198.51.100.236 (high)');
  });
  it('fails naming the offers a real dnsmasq made inside the range', () => {
    const r = dhcpCheck(withOffers(offersFrom('dhcp/dnsmasq-hash-12.txt')));
    expect(r.verdict).toBe('fail');
    expect(r.data!.inside).toEqual([
      { address: '198.51.100.197', server: '198.51.100.1' },
      { address: '198.51.100.193', server: '198.51.100.1' },
      { address: '198.51.100.198', server: '198.51.100.1' },
    ]);
    expect(r.fix).toMatch(/shrink the DHCP pool on 198\.51\.100\.1/);
  });
  it('warns when no offer but the estimated pool reaches into the range (the real pool .100–.199 does)', () => {
    const r = dhcpCheck(withOffers(offersFrom('dhcp/dnsmasq-hash-6.txt')));
    expect(r.verdict).toBe('warn');
    expect(r.detail).toMatch(/^no offer fell inside 198\.51\.100\.192\/27, but the estimated pool reaches into it: 198\.51\.100\.1: 6 offers spread over 198\.51\.100\.101–198\.51\.100\.188/);
  });
  it('warns when two servers answer', () => {
    const f = withOffers(offersFrom('dhcp/dnsmasq-hash-6.txt'), '198.51.100.240/28');
    const lan = f.lan as Extract<DoctorNetworkFacts['lan'], { done: true }>;
    lan.scan.dhcp!.servers.push({ address: '198.51.100.66' });
    expect(dhcpCheck(f)).toMatchObject({ verdict: 'warn', detail: expect.stringContaining('2 DHCP servers answered (198.51.100.1, 198.51.100.66)') });
  });
  it('passes when no DHCP server answered', () => {
    expect(dhcpCheck(withOffers([]))).toMatchObject({ verdict: 'pass', detail: 'no DHCP server answered on the LAN' });
  });
});

describe('persistence', () => {
  it('passes when the unit and its enable link are as recorded', () => {
    const r = persistenceCheck(facts());
    expect(r.verdict).toBe('pass');
    expect(r.detail).toMatch(/^systemd: \/etc\/systemd\/system\/macvlanctl-mynet\.service, \/etc\/systemd\/system\/multi-user\.target\.wants\/macvlanctl-mynet\.service as applied/);
  });
  it('fails when a file is missing, changed, has the wrong mode, or the unit is not enabled', () => {
    const [unit, link] = onDisk(record.network);
    const check = (managed: ManagedFile[]) => persistenceCheck({ ...facts(), host: host(managed) });
    expect(check([link!]).detail).toMatch(/macvlanctl-mynet\.service is missing/);
    expect(check([{ ...unit!, content: `${unit!.content}# edited\n` }, link!]).detail).toMatch(/was changed since it was written/);
    expect(check([{ ...unit!, mode: 0o600 }, link!]).detail).toMatch(/has mode 0600, not 0644/);
    expect(check([unit!]).detail).toMatch(/the unit is not enabled/);
    for (const m of [[link!], [unit!]]) expect(check(m).verdict).toBe('fail');
  });
  it('warns when no persistence was chosen', () => {
    const none = structuredClone(record);
    // --persist auto that found no backend: the reason says why, the check says what follows.
    none.network.persist = 'auto';
    none.network.persistence = { backend: 'none', reason: 'nothing manages eno1', files: [] };
    expect(persistenceCheck(facts({}, {}, none))).toMatchObject({ verdict: 'warn', detail: 'no persistence chosen (nothing manages eno1): the shim and its route are gone after the next reboot' });
    // --persist none: the planner's own reason already says it, and once is enough.
    none.network.persist = 'none';
    none.network.persistence.reason = '--persist none: the shim is not persisted and is gone after a reboot';
    expect(persistenceCheck(facts({}, {}, none)).detail).toBe('no persistence chosen: --persist none: the shim is not persisted and is gone after a reboot');
  });
  it('warns about files of ours another backend left behind', () => {
    const stray: ManagedFile = { path: '/etc/network/interfaces.d/macvlanctl-mynet', network: 'mynet', content: '# Managed by macvlanctl for network mynet. x\n', mode: 0o644 };
    const r = persistenceCheck({ ...facts(), host: host([...onDisk(record.network), stray]) });
    expect(r).toMatchObject({ verdict: 'warn', detail: expect.stringContaining('files of ours that systemd does not use are left: /etc/network/interfaces.d/macvlanctl-mynet') });
  });
  it('warns when the recorded files are not what this version renders from the recorded network', () => {
    const old = structuredClone(record);
    const files = renderPersistence('ifupdown', old.network);
    files[0]!.content = files[0]!.content.replace('up ', 'up  ');
    old.network.persistence = { backend: 'ifupdown', reason: 'test', files };
    const r = persistenceCheck(facts({}, {}, old));
    expect(r).toMatchObject({ verdict: 'warn', detail: expect.stringContaining('this macvlanctl would write them differently (/etc/network/interfaces.d/macvlanctl-mynet)') });
    // …and passes when they are what it renders.
    old.network.persistence = { backend: 'ifupdown', reason: 'test', files: renderPersistence('ifupdown', old.network) };
    expect(persistenceCheck(facts({}, {}, old)).verdict).toBe('pass');
  });
  it('without a record, recognises our files by their header alone, and warns when there are none', () => {
    const f = facts({}, {}, null);
    expect(persistenceCheck(f).verdict).toBe('warn');
    const withFile = { ...f, host: host([{ path: '/etc/systemd/system/macvlanctl-mynet.service', network: 'mynet', content: '# Managed by macvlanctl for network mynet. x\n', mode: 0o644 }]) };
    expect(persistenceCheck(withFile)).toMatchObject({ verdict: 'pass', detail: expect.stringContaining('not compared') });
  });
});

describe('gathering helpers and the report', () => {
  it('reads the neighbour entry the kernel printed', () => {
    expect(parseNeighbour(fixture('scan/neigh-mid-sweep.json'), '198.51.100.1')).toEqual({ state: ['REACHABLE'], mac: GATEWAY_MAC });
    expect(parseNeighbour(fixture('scan/neigh-mid-sweep.json'), '198.51.100.2')).toEqual({ state: ['INCOMPLETE'] });
    expect(parseNeighbour('', '198.51.100.1')).toBeUndefined();
  });
  it('sweeps the subnet, or the /16 around the ip-range when the subnet is larger than one scan takes', () => {
    expect(sweepSubnet('198.51.100.0/24', '198.51.100.192/27')).toBe('198.51.100.0/24');
    expect(sweepSubnet('10.0.0.0/8', '10.20.30.0/24')).toBe('10.20.0.0/16');
  });
  it('rebuilds the expected network from Docker labels', () => {
    const n = networkFromLabels(MYNET)!;
    expect(n.shim).toEqual({ interface: 'mynet-shim', address: '198.51.100.223', mac: SHIM_MAC, mode: 'bridge', routes: ['198.51.100.192/27'] });
    expect(networkFromLabels({ ...MYNET, labels: { 'io.macvlanctl.managed': 'true' } })!.shim).toBeUndefined();
  });
  it('counts verdicts; a failure makes the network and the report not ok, a warning does not', () => {
    const warnOnly = checkNetwork(facts({}, { ...ipFacts('lab-host', ['eno1']) }));
    expect(warnOnly.ok).toBe(true);
    const failing = checkNetwork(facts({}, without('mynet-shim')));
    expect(failing.ok).toBe(false);
    const report = doctorReport([warnOnly, failing]);
    expect(report.ok).toBe(false);
    expect(report.counts.warn).toBeGreaterThanOrEqual(1);
    expect(report.counts.fail).toBeGreaterThanOrEqual(1);
  });
  it('prints ✓ ! ✗ on a terminal and plain words elsewhere, with the fix on the same line', () => {
    const r = { id: 'shim', title: 'host shim mynet-shim', verdict: 'fail' as const, detail: 'mynet-shim does not exist', fix: 'sudo macvlanctl up mynet' };
    expect(checkLine(r, false)).toBe('  FAIL host shim mynet-shim: mynet-shim does not exist — fix: sudo macvlanctl up mynet');
    expect(checkLine(r, true)).toMatch(/✗/);
    expect(checkLine({ ...r, verdict: 'warn' }, true)).toMatch(/^ {2}\S*!/);
    expect(checkLine({ ...r, verdict: 'pass' }, true)).toMatch(/✓/);
    const text = presentDoctor(doctorReport([checkNetwork(facts())]), false);
    expect(text.split('\n').filter((l) => l.startsWith('  ok   '))).toHaveLength(9);
    expect(text).toMatch(/Doctor: 9 checks passed, 0 warnings, 0 failures, 0 skipped\.\n$/);
  });
});
