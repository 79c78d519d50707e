/**
 * The one test of "is this our shim" (src/plan/shim-identity.ts isOwnShim),
 * which the planner, destroy, up/down and status all use: the MAC proves it,
 * the alias alone never does, except for the repair of a network applied here.
 */
import { describe, expect, it } from 'vitest';
import type { DockerNetworkFact, InterfaceFact } from '../../src/model/facts.js';
import type { PlannedShim } from '../../src/model/plan.js';
import { describeNetwork } from '../../src/plan/network-status.js';
import { findOwnShim, isOwnShim, shimOnRecord } from '../../src/plan/shim-identity.js';
import { docker, hostFacts } from '../support/fixture-facts.js';

const MAC = '0a:11:22:33:44:55';
const shim = (over: Partial<InterfaceFact> = {}): InterfaceFact => ({
  name: 'mynet-shim',
  index: 9,
  kind: 'macvlan',
  up: true,
  operState: 'UP',
  lowerUp: true,
  mtu: 1500,
  mac: MAC,
  link: 'eno1',
  alias: 'macvlanctl:mynet',
  wireless: false,
  addresses: [],
  ...over,
});

const recorded = { interface: 'mynet-shim', mac: MAC };

describe('isOwnShim', () => {
  const cases: [string, InterfaceFact, Parameters<typeof isOwnShim>[2], boolean][] = [
    ['our alias and our MAC', shim(), recorded, true],
    ['our MAC in upper case', shim({ mac: MAC.toUpperCase() }), recorded, true],
    ['the expected name and our MAC, no alias (networkd/NetworkManager made it at boot)', shim({ alias: undefined }), recorded, true],
    ['our MAC, but neither our alias nor the expected name', shim({ alias: undefined, name: 'other' }), recorded, false],
    ['our alias, another MAC', shim({ mac: '0a:00:00:00:00:01' }), recorded, false],
    ['our alias and MAC, but no MAC to prove it with', shim(), { interface: 'mynet-shim' }, false],
    ['a veth with our alias and MAC', shim({ kind: 'veth' }), recorded, false],
    ['our MAC on another parent than the expected one', shim(), { ...recorded, parent: 'eno2' }, false],
    ['our MAC on the expected parent', shim(), { ...recorded, parent: 'eno1' }, true],
    ['a drifted MAC with our alias, when a network applied here is repaired', shim({ mac: '0a:00:00:00:00:01' }), { ...recorded, repairByAlias: true }, true],
    ['a drifted MAC without our alias, even for repair', shim({ mac: '0a:00:00:00:00:01', alias: undefined }), { ...recorded, repairByAlias: true }, false],
    ['a veth with our alias, even for repair', shim({ kind: 'veth' }), { ...recorded, repairByAlias: true }, false],
  ];
  for (const [what, iface, evidence, ours] of cases) {
    it(`${what}: ${ours ? 'ours' : 'not ours'}`, () => expect(isOwnShim(iface, 'mynet', evidence)).toBe(ours));
  }
});

describe('findOwnShim', () => {
  it('prefers the interface with our alias to one that merely has the expected name', () => {
    const renamed = shim({ name: 'renamed' });
    const named = shim({ alias: undefined, index: 10 });
    expect(findOwnShim('mynet', [named, renamed], recorded)?.name).toBe('renamed');
    expect(findOwnShim('mynet', [named], recorded)?.name).toBe('mynet-shim');
  });
  it('finds nothing on the alias alone', () => {
    expect(findOwnShim('mynet', [shim()], {})).toBeUndefined();
    expect(findOwnShim('mynet', [shim({ mac: '0a:00:00:00:00:01' })], recorded)).toBeUndefined();
  });
});

describe('shimOnRecord: the record, else the labels of our Docker network', () => {
  const labels = {
    'io.macvlanctl.managed': 'true',
    'io.macvlanctl.shim': 'mynet-shim',
    'io.macvlanctl.shim-mac': '0A:11:22:33:44:55',
    'io.macvlanctl.host-address': '198.51.100.223',
  };
  const net = (l: Record<string, string>): DockerNetworkFact => ({
    id: 'id-mynet', name: 'mynet', driver: 'macvlan', scope: 'local', parent: 'eno1', labels: l, options: { parent: 'eno1' },
    subnets: [], enableIPv6: false, containers: [], configOnly: false,
  });
  const record: PlannedShim = { interface: 'rec-shim', mac: '0a:00:00:00:00:07', address: '198.51.100.222', mode: 'bridge', routes: [] };

  it('takes the record first', () => {
    expect(shimOnRecord(record, net(labels))).toEqual({ interface: 'rec-shim', mac: '0a:00:00:00:00:07', address: '198.51.100.222', address6: undefined });
  });
  it('falls back on the labels of a network that is ours, MAC in lower case', () => {
    expect(shimOnRecord(undefined, net(labels))).toEqual({ interface: 'mynet-shim', mac: MAC, address: '198.51.100.223', address6: undefined });
  });
  it('takes nothing from the labels of a network that is not ours', () => {
    const { 'io.macvlanctl.managed': _, ...foreign } = labels;
    expect(shimOnRecord(undefined, net(foreign))).toEqual({ interface: undefined, mac: undefined, address: undefined, address6: undefined });
  });
  it('status finds the shim through the labels alone, and not through a foreign network that copies them', () => {
    const facts = hostFacts('fresh-host', { interfaces: [...hostFacts().interfaces, shim()], docker: docker([net(labels)]) });
    expect(describeNetwork('mynet', net(labels), facts).shim).toMatchObject({ present: true, interface: 'mynet-shim' });
    const { 'io.macvlanctl.managed': _, ...foreign } = labels;
    expect(describeNetwork('mynet', net(foreign), facts).shim.present).toBe(false);
  });
});
