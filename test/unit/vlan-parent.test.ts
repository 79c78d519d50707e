/**
 * A VLAN parent that Docker's macvlan driver creates (`parent: eno1.10` with
 * eno1 present; libnetwork createVlanLink), issue #10 item 7. This kernel has
 * no 802.1q, so it is proven here and by the golden files
 * (test/golden/vlan-parent), not end to end: the planner accepts it, plans
 * the Docker network before the shim on it, persists it through the manager
 * of the base link, cannot scan a LAN it cannot reach yet (and says so), and
 * never suggests an unrelated link for a parent that is not there.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { flagsToRaw, type NetworkFlags } from '../../src/config/flags.js';
import { toDesired } from '../../src/config/to-desired.js';
import { planOperations } from '../../src/apply/operations.js';
import type { PlannedNetwork } from '../../src/model/plan.js';
import { planDestroy } from '../../src/plan/plan-destroy.js';
import { lanForPlan, type ScanRequest } from '../../src/gather/lan-for-plan.js';
import type { HostFacts, InterfaceFact } from '../../src/model/facts.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { parentSuggestion, vlanParentName } from '../../src/plan/parent.js';
import { scanTargets } from '../../src/gather/scan-targets.js';
import type { ManagerFacts } from '../../src/model/manager-facts.js';
import { gatherManagerFacts } from '../../src/gather/persist-facts.js';
import { docker, hostFacts } from '../support/fixture-facts.js';
import { parseAddress, parseCidr } from '../../src/net/address.js';
import { refusalOf } from '../support/refusal.js';

const VLAN: NetworkFlags = { parent: 'eno1.10', subnet: ['203.0.113.0/24'], gateway: ['203.0.113.1'], ipRange: ['203.0.113.64/27'], persist: 'none' };
const plan = (flags: NetworkFlags, f: HostFacts = hostFacts()) => computePlan([toDesired(flagsToRaw('iot', flags))], f);

/** The host after apply: Docker made eno1.10 (a VLAN on eno1, with eno1's MAC and MTU). */
function withDockersVlan(f: HostFacts = hostFacts()): HostFacts {
  const eno1 = f.interfaces.find((i) => i.name === 'eno1')!;
  const vlan: InterfaceFact = { ...eno1, name: 'eno1.10', index: 99, kind: 'vlan', infoKind: 'vlan', link: 'eno1', addresses: [] };
  return { ...f, interfaces: [...f.interfaces, vlan] };
}

describe('a VLAN parent Docker creates', () => {
  it('is accepted when its base link exists: the Docker network first, then the shim on the sub-interface', () => {
    const p = plan(VLAN);
    const n = p.networks[0]!;
    expect(n).toMatchObject({ parent: 'eno1.10', vlan: { link: 'eno1', id: 10 }, docker: { options: { parent: 'eno1.10' } }, shim: { interface: 'iot-shim' } });
    expect(p.changes.filter((c) => c.action !== 'noop').map((c) => `${c.action} ${c.kind}`)).toEqual(['create docker-network', 'create shim-link', 'create shim-address', 'update shim-up', 'create shim-route']);
    expect(p.changes.find((c) => c.kind === 'shim-link')!.summary).toMatch(/on eno1\.10/);
    expect(p.unchecked.join('\n')).toMatch(/parent eno1\.10: VLAN 10 on eno1, which Docker creates with the network \(apply makes the shim on it afterwards; destroy leaves it to Docker\)/);
  });

  it('once Docker made it, the plan is the same (same shim MAC: the VLAN has its base’s), with nothing left to do but the host side', () => {
    const before = plan(VLAN).networks[0]!;
    const after = plan(VLAN, withDockersVlan()).networks[0]!;
    expect(after.vlan).toEqual({ link: 'eno1', id: 10 });
    expect(after.shim).toEqual(before.shim);
    expect(plan(VLAN, withDockersVlan()).unchecked.join('\n')).not.toMatch(/Docker creates/);
  });

  it('needs the subnet and gateway given: the sub-interface has no address yet to take them from', () => {
    const e = refusalOf(() => plan({ parent: 'eno1.10', persist: 'none' }));
    expect(e.message).toMatch(/eno1\.10 has no IPv4 address to take the subnet from; give it with --subnet/);
  });

  it('refuses VLAN ids outside 1–4094 and a base that is not a LAN-facing link', () => {
    expect(refusalOf(() => plan({ ...VLAN, parent: 'eno1.4095' })).message).toMatch(/names VLAN 4095, but 802\.1Q VLAN ids are 1 to 4094/);
    expect(refusalOf(() => plan({ ...VLAN, parent: 'eno1.0' })).code).toBe('PARENT_INVALID');
    expect(refusalOf(() => plan({ ...VLAN, parent: 'lo.10' })).message).toMatch(/would be a VLAN on 'lo', which is a loopback interface/);
  });

  it('a missing base: not found, and no unrelated link offered', () => {
    const e = refusalOf(() => plan({ ...VLAN, parent: 'eth0.10' }));
    expect(e.code).toBe('PARENT_NOT_FOUND');
    expect(e.message).toMatch(/interface 'eth0\.10' does not exist on this host \(nor does 'eth0', on which Docker would create VLAN 10\)\. Interfaces here:/);
    expect(e.message).not.toMatch(/Did you mean/);
    // A typo in the base: the same VLAN on the close base, never the bare base or another VLAN.
    expect(refusalOf(() => plan({ ...VLAN, parent: 'en01.10' })).details.suggestion).toBe('eno1.10');
  });

  it('parentSuggestion: VLAN names map to the same VLAN on a close base; other names never to a VLAN sub-interface', () => {
    expect(parentSuggestion('en01.10', ['lo', 'eno1', 'eno1.20'])).toBe('eno1.10');
    expect(parentSuggestion('eth0.10', ['lo', 'eno1', 'eno1.10'])).toBeUndefined();
    expect(parentSuggestion('eno1.1', ['eno1.10'])).toBeUndefined(); // neither another VLAN nor (missing) base
    expect(parentSuggestion('eno2', ['eno1', 'eno2.5'])).toBe('eno1');
    expect(parentSuggestion('eno2', ['eno2.5'])).toBeUndefined();
    expect(vlanParentName('eno1.10')).toEqual({ base: 'eno1', id: 10 });
    expect(vlanParentName('a.b.10')).toBeUndefined(); // Docker takes exactly one dot
    expect(vlanParentName('eno1')).toBeUndefined();
  });
});

describe('its LAN cannot be scanned before apply', () => {
  it('plan says so (LAN_NOT_SCANNED, with the reason) and does not fail; no scan is attempted', async () => {
    const requests: ScanRequest[] = [];
    const d = [toDesired(flagsToRaw('iot', { ...VLAN, ipRange: ['auto'] }))];
    expect(scanTargets(d, hostFacts())).toEqual([{ parent: 'eno1.10', subnet: '203.0.113.0/24', gateway: '203.0.113.1', missing: true, networks: ['iot'] }]);
    const f = await lanForPlan(d, hostFacts(), {
      root: '/nonexistent-root',
      scanLan: async (r) => {
        requests.push(r);
        throw new Error('must not scan');
      },
      privileged: () => true,
      neighbourMac: async () => undefined,
      log: () => undefined,
    });
    expect(requests).toEqual([]);
    const p = computePlan(d, f);
    expect(p.networks[0]!.ipRange).toBe('203.0.113.192/27');
    const w = p.warnings.find((x) => x.code === 'LAN_NOT_SCANNED');
    expect(w?.message).toMatch(/the LAN on eno1\.10 was not scanned \(eno1\.10 does not exist yet \(Docker creates the VLAN sub-interface with the network\), so its LAN cannot be scanned before apply\)/);
    expect(w?.fix).toMatch(/--avoid FIRST-LAST.*doctor/);
  });
});

describe('persistence goes through the manager of the base link', () => {
  let networkd: ManagerFacts;
  beforeAll(async () => {
    networkd = await gatherManagerFacts(join(import.meta.dirname, '..', 'fixtures', 'persist', 'arch-networkd'), { live: false });
  });

  it('networkd manages eno1: the VLAN is declared and added to eno1’s own .network by a drop-in, the shim put on the VLAN', () => {
    const f = hostFacts('fresh-host', { persistence: { managed: [], selfCommand: ['/usr/local/bin/macvlanctl'], managers: networkd, evidence: 'e0' } });
    const n = plan({ ...VLAN, persist: 'auto' }, f).networks[0]!;
    expect(n.persistence?.backend).toBe('networkd');
    expect(n.persistence?.reason).toMatch(/eno1/);
    expect(n.persistence?.parentNetworkFile).toBe('/etc/systemd/network/20-wired.network');
    const byPath = Object.fromEntries(n.persistence!.files.map((x) => [x.path, x.content]));
    expect(byPath['/etc/systemd/network/20-wired.network.d/macvlanctl-iot.conf']).toMatch(/^VLAN=eno1\.10$/m);
    expect(byPath['/etc/systemd/network/10-macvlanctl-iot-vlan.netdev']).toMatch(/^Kind=vlan\n\n\[VLAN\]\nId=10$/m);
    expect(byPath['/etc/systemd/network/10-macvlanctl-iot-vlan.network']).toMatch(/^MACVLAN=iot-shim$/m);
    // After apply (Docker made eno1.10), the same files: nothing to change.
    const again = plan({ ...VLAN, persist: 'auto' }, withDockersVlan(f)).networks[0]!;
    expect(again.persistence?.files).toEqual(n.persistence?.files);
  });
});

describe('a VLAN parent gone while Docker keeps the network', () => {
  it('is refused before anything changes (Docker makes it only with the network), with how to bring it back', () => {
    const n = plan(VLAN).networks[0]!;
    const e = refusalOf(() => plan(VLAN, { ...hostFacts(), docker: docker([dockersNetwork(n)]) }));
    expect(e.code).toBe('PARENT_NOT_FOUND');
    expect(e.message).toMatch(/^network iot: its parent eno1\.10 \(VLAN 10 on eno1\) is gone while Docker keeps the network/);
    expect(e.message).toContain('ip link add link eno1 name eno1.10 type vlan id 10; ip link set eno1.10 up');
    expect(e.message).toContain('docker network rm iot');
    // Once it is back, the same network plans as applied: nothing to refuse.
    expect(() => plan(VLAN, { ...withDockersVlan(), docker: docker([dockersNetwork(n)]) })).not.toThrow();
  });
});

/** Docker's network iot as apply made it for the planned `n`. */
function dockersNetwork(n: PlannedNetwork) {
  return {
    id: 'id-iot',
    name: 'iot',
    driver: 'macvlan',
    scope: 'local',
    parent: 'eno1.10',
    labels: n.labels,
    options: { parent: 'eno1.10' },
    subnets: [{ subnet: parseCidr('203.0.113.0/24'), gateway: parseAddress('203.0.113.1'), ipRange: parseCidr('203.0.113.64/27'), auxAddresses: { host: parseAddress(n.shim!.address) }, raw: {} }],
    enableIPv6: false,
    containers: [],
    configOnly: false,
  };
}

describe('destroy leaves the VLAN to Docker', () => {
  it('removes the shim and the Docker network (Docker deletes the sub-interface it made), never the sub-interface itself', () => {
    const n = plan(VLAN).networks[0]!;
    const base = withDockersVlan();
    const shim: InterfaceFact = { ...base.interfaces.find((i) => i.name === 'eno1.10')!, name: 'iot-shim', index: 100, kind: 'macvlan', infoKind: 'macvlan', link: 'eno1.10', mac: n.shim!.mac, alias: 'macvlanctl:iot' };
    const net = dockersNetwork(n);
    const t = { ops: planOperations(planDestroy('iot', { ...base, interfaces: [...base.interfaces, shim], docker: docker([net]) }, {})) };
    expect(t.ops.map((o) => o.title)).toEqual(['delete shim iot-shim (with its address and route)', 'remove Docker network iot']);
    expect(JSON.stringify(t.ops)).not.toMatch(/link del dev eno1\.10/);
  });
});
