/**
 * Drift that status, doctor and apply must see, on host facts captured from
 * real `ip -json -details` output (test/fixtures/README.md, "drift"): the
 * shim switched to private mode, the parent raised to MTU 9000 with the shim
 * left at 1500, the parent administratively down. arp_notify is not in `ip`'s
 * output (it is read from /proc for macvlan links), so it is set on the facts.
 * And the shim's MAC: once applied, it never follows the parent's MAC.
 */
import { describe, expect, it } from 'vitest';
import { shimOperations } from '../../src/apply/operations.js';
import { upDownOperations } from '../../src/apply/up-down.js';
import { flagsToRaw, type NetworkFlags } from '../../src/config/flags.js';
import { toDesired } from '../../src/config/to-desired.js';
import { shimCheck } from '../../src/doctor/checks/shim.js';
import type { DoctorNetworkFacts } from '../../src/doctor/types.js';
import type { DockerNetworkFact, HostFacts } from '../../src/model/facts.js';
import type { Change, PlannedNetwork } from '../../src/model/plan.js';
import { commandLines } from '../../src/present/commands.js';
import { planOperations } from '../../src/apply/operations.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { describeNetwork } from '../../src/plan/network-status.js';
import { hostSideChanges } from '../../src/plan/plan-network.js';
import { deriveShimMac, lifelongShimMac } from '../../src/plan/shim-identity.js';
import { networkFactFromEngine } from '../../src/gather/docker-facts.js';
import type { NetworkState } from '../../src/system/state-store.js';
import { type IpFixture, docker, fixture, hostFacts } from '../support/fixture-facts.js';

const RECIPE: NetworkFlags = { parent: 'eno1', ipRange: ['198.51.100.192/27'], auxAddress: ['host=198.51.100.223'], persist: 'none' };
/** The MAC of mynet-shim in every lab-host capture (set by hand when they were captured). */
const SHIM_MAC = '02:6d:76:6c:00:01';
const MYNET: DockerNetworkFact = {
  ...networkFactFromEngine(JSON.parse(fixture('docker/network-mynet.json'))),
  labels: { 'io.macvlanctl.managed': 'true', 'io.macvlanctl.shim': 'mynet-shim', 'io.macvlanctl.host-address': '198.51.100.223', 'io.macvlanctl.shim-mac': SHIM_MAC },
};

function host(name: IpFixture, over: Partial<HostFacts> = {}): HostFacts {
  return hostFacts(name, { docker: docker([MYNET]), ...over });
}

function plan(facts: HostFacts) {
  return computePlan([toDesired(flagsToRaw('mynet', RECIPE))], facts);
}

/** The record apply writes for the lab-host's mynet (its shim MAC is the one the fixture's shim carries). */
const RECORD: PlannedNetwork = plan(host('lab-host')).networks[0]!;
RECORD.shim!.mac = SHIM_MAC;
const STATE: NetworkState = { schemaVersion: 1, name: 'mynet', appliedAt: '2026-12-06T01:00:00.000Z', macvlanctlVersion: '0.1.0', network: RECORD };

function pending(changes: Change[]) {
  return changes.filter((c) => c.action !== 'noop');
}

function withShim(facts: HostFacts, over: Partial<HostFacts['interfaces'][number]>): HostFacts {
  return { ...facts, interfaces: facts.interfaces.map((i) => (i.name === 'mynet-shim' ? { ...i, ...over } : i)) };
}

function doctorFacts(h: HostFacts): DoctorNetworkFacts {
  return {
    name: 'mynet',
    host: h,
    status: describeNetwork('mynet', MYNET, h, STATE),
    docker: MYNET,
    record: STATE,
    lan: { done: false, reason: 'not probed in this test' },
    commands: { up: 'sudo macvlanctl up mynet', apply: 'sudo macvlanctl apply mynet …' },
  };
}

/** `plan --show-commands`: the lines printed from apply's own operations. */
const showCommands = (p: Parameters<typeof planOperations>[0]) => commandLines(planOperations(p));

describe('the healthy lab host: no drift', () => {
  it('every change a no-op, status healthy, doctor passes', () => {
    const h = withShim(host('lab-host'), { arpNotify: true, mac: SHIM_MAC });
    expect(pending(hostSideChanges(RECORD, h))).toEqual([]);
    expect(pending(plan({ ...h, appliedShimMacs: { mynet: SHIM_MAC } }).changes)).toEqual([]);
    expect(describeNetwork('mynet', MYNET, h, STATE)).toMatchObject({ healthy: true, problems: [] });
    expect(shimCheck(doctorFacts(h)).verdict).toBe('pass');
  });
});

describe('a shim switched to private mode (ip link set mynet-shim type macvlan mode private)', () => {
  const h = host('drift-private-shim');

  it('is re-created in bridge mode by up and apply, and only that', () => {
    const changes = pending(hostSideChanges(RECORD, h));
    expect(changes.map((c) => [c.kind, c.action])).toEqual([
      ['shim-link', 'replace'],
      ['shim-address', 'create'],
      ['shim-up', 'update'],
      ['shim-route', 'create'],
    ]);
    expect(changes[0]!.reason).toBe('re-create: mode private ≠ bridge');
    const lines = upDownOperations('up', 'mynet', h, RECORD).flatMap((o) => (o.kind === 'ip' ? [o.line] : []));
    expect(lines.slice(0, 2)).toEqual(['link del dev mynet-shim', `link add mynet-shim link eno1 address ${SHIM_MAC} type macvlan mode bridge`]);
    expect(pending(plan({ ...h, appliedShimMacs: { mynet: SHIM_MAC } }).changes).map((c) => c.kind)).toEqual(['shim-link', 'shim-address', 'shim-up', 'shim-route']);
  });

  it('makes status unhealthy and doctor fail, naming the mode', () => {
    const s = describeNetwork('mynet', MYNET, h, STATE);
    expect(s.healthy).toBe(false);
    expect(s.problems).toEqual(['shim mynet-shim is in macvlan mode private, expected bridge']);
    const d = shimCheck(doctorFacts(h));
    expect(d).toMatchObject({ verdict: 'fail', fix: 'sudo macvlanctl up mynet' });
    expect(d.detail).toMatch(/^mynet-shim must be re-created \(mode private ≠ bridge\)/);
  });
});

describe('the parent raised to MTU 9000, the shim left at 1500', () => {
  const h = host('drift-parent-mtu');

  it('sets the shim’s MTU to its parent’s, undoably, without re-creating it', () => {
    const changes = pending(hostSideChanges(RECORD, h));
    expect(changes).toEqual([expect.objectContaining({ kind: 'shim-mtu', action: 'update', interface: 'mynet-shim', before: { mtu: 1500 }, after: { mtu: 9000 } })]);
    expect(shimOperations(changes, RECORD)).toEqual([
      { kind: 'ip', title: "set the MTU of mynet-shim to 9000, its parent's", line: 'link set dev mynet-shim mtu 9000', undo: 'link set dev mynet-shim mtu 1500' },
    ]);
    const p = plan({ ...h, appliedShimMacs: { mynet: SHIM_MAC } });
    expect(showCommands(p)).toEqual(['ip link set dev mynet-shim mtu 9000', "# record mynet as applied (macvlanctl's state under /var/lib/macvlanctl)"]);
    expect(p.warnings.map((w) => w.code)).not.toContain('MTU_MISMATCH');
  });

  it('makes status unhealthy and doctor fail, naming both MTUs', () => {
    expect(describeNetwork('mynet', MYNET, h, STATE).problems).toEqual(["shim mynet-shim has MTU 1500, its parent eno1's is 9000"]);
    expect(shimCheck(doctorFacts(h))).toMatchObject({ verdict: 'fail', detail: expect.stringMatching(/^mynet-shim has MTU 1500, its parent's is 9000/) });
  });
});

describe('arp_notify turned off on the shim', () => {
  const h = withShim(host('lab-host'), { arpNotify: false });

  it('is turned on again, once, whether the shim is up or brought up', () => {
    const changes = pending(hostSideChanges(RECORD, h));
    expect(changes.map((c) => c.kind)).toEqual(['shim-arp-notify']);
    expect(shimOperations(changes, RECORD)).toEqual([
      { kind: 'sysctl', title: 'announce mynet-shim by gratuitous ARP when it comes up', family: 'ipv4', iface: 'mynet-shim', key: 'arp_notify', value: '1' },
    ]);
    expect(showCommands(plan({ ...h, appliedShimMacs: { mynet: SHIM_MAC } }))).toEqual(['sysctl -w net.ipv4.conf.mynet-shim.arp_notify=1', "# record mynet as applied (macvlanctl's state under /var/lib/macvlanctl)"]);
    const downToo = pending(hostSideChanges(RECORD, withShim(h, { up: false })));
    const sysctls = shimOperations(downToo, RECORD).filter((o) => o.kind === 'sysctl' && o.key === 'arp_notify');
    expect(sysctls).toHaveLength(1);
  });

  it('makes status unhealthy and doctor fail', () => {
    expect(describeNetwork('mynet', MYNET, h, STATE).problems).toEqual(['shim mynet-shim has arp_notify off: it is not announced by gratuitous ARP when it comes up']);
    expect(shimCheck(doctorFacts(h))).toMatchObject({ verdict: 'fail', detail: expect.stringMatching(/^mynet-shim has arp_notify off/) });
  });

  it('not read (undefined) is not drift', () => {
    expect(pending(hostSideChanges(RECORD, host('lab-host')))).toEqual([]);
  });

  it('on a shim networkd or NetworkManager made (no alias of ours), which cannot set it, it is not drift', () => {
    const made = withShim(h, { alias: undefined });
    expect(pending(hostSideChanges(RECORD, made))).toEqual([]);
    expect(describeNetwork('mynet', MYNET, made, STATE).problems).toEqual([]);
  });
});

describe('the parent administratively down (ip link set eno1 down)', () => {
  const h = host('drift-parent-down');

  it('makes status unhealthy, though the shim’s own UP flag is still set', () => {
    expect(h.interfaces.find((i) => i.name === 'mynet-shim')).toMatchObject({ up: true, operState: 'LOWERLAYERDOWN' });
    const s = describeNetwork('mynet', MYNET, h, STATE);
    expect(s.healthy).toBe(false);
    expect(s.problems).toEqual(['parent eno1 is administratively down; containers will have no network until it is up']);
  });

  it('a parent that is gone is named too', () => {
    const gone = { ...h, interfaces: h.interfaces.filter((i) => i.name !== 'eno1') };
    expect(describeNetwork('mynet', MYNET, gone, STATE).problems).toContain('parent eno1 is missing');
  });
});

describe('a shim keeps one MAC for life', () => {
  /** The lab host after its parent was deleted and made again with another MAC: the shim went with it. */
  function parentReplaced(over: Partial<HostFacts> = {}): HostFacts {
    const h = host('lab-host', over);
    return {
      ...h,
      interfaces: h.interfaces.filter((i) => i.name !== 'mynet-shim').map((i) => (i.name === 'eno1' ? { ...i, mac: '02:00:c6:33:64:99' } : i)),
      routes: h.routes.filter((r) => r.device !== 'mynet-shim'),
    };
  }

  it('after the parent got a new MAC, the shim is made again with the recorded MAC, not one derived from the new parent', () => {
    const derivedNow = deriveShimMac('test-host-id', '02:00:c6:33:64:99', 'mynet');
    const recorded = '02:11:22:33:44:55';
    const p = plan(parentReplaced({ appliedShimMacs: { mynet: recorded } }));
    expect(p.networks[0]!.shim!.mac).toBe(recorded);
    expect(p.networks[0]!.shim!.mac).not.toBe(derivedNow);
    expect(showCommands(p)).toContain(`ip link add mynet-shim link eno1 address ${recorded} type macvlan mode bridge`);
    // The Docker network is untouched: its labels are not compared, and its shim-mac label stays the truth.
    expect(p.changes.find((c) => c.kind === 'docker-network')!.action).toBe('noop');
  });

  it('without a record, the Docker label’s MAC is kept', () => {
    const p = plan(parentReplaced());
    expect(p.networks[0]!.shim!.mac).toBe(SHIM_MAC);
    expect(p.networks[0]!.labels['io.macvlanctl.shim-mac']).toBe(SHIM_MAC);
  });

  it('a network never applied gets a derived MAC; a malformed kept MAC is ignored', () => {
    expect(lifelongShimMac({}, () => 'derived')).toBe('derived');
    expect(lifelongShimMac({ recorded: '03:00:00:00:00:01' }, () => 'derived')).toBe('derived'); // multicast
    expect(lifelongShimMac({ recorded: 'nonsense', label: '02:AA:BB:CC:DD:EE' }, () => 'derived')).toBe('02:aa:bb:cc:dd:ee');
    const fresh = hostFacts('fresh-host');
    expect(plan(fresh).networks[0]!.shim!.mac).toBe(deriveShimMac('test-host-id', '02:00:c6:33:64:18', 'mynet'));
  });
});
