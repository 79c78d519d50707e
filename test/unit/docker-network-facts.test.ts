// Engine API network objects captured from dockerd 20.10 (API 1.41), see test/fixtures/README.md.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatAddress, formatCidr, parseAddress, parseCidr } from '../../src/net/address.js';
import type { EngineNetwork } from '../../src/system/docker/client.js';
import { needsInspect, networkFactFromEngine, subnetFactFromEngine } from '../../src/gather/docker-facts.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'docker');
const fixture = <T>(name: string): T => JSON.parse(readFileSync(join(FIX, name), 'utf8')) as T;

const MYNET_ID = 'bbdb76720dbbc98d6a4923ded67d62d22a527e2713aa4f620db978dee8f1d670';
const WEB_ID = '9484b31f55cbccc4bf80b2bcd47df50b4077ffe638231a18fef062229e96ad6c';

describe('networkFactFromEngine on GET /networks/mynet (inspect)', () => {
  const fact = networkFactFromEngine(fixture<EngineNetwork>('network-mynet.json'));

  it('identity, driver, parent, labels', () => {
    expect(fact).toMatchObject({
      id: MYNET_ID,
      name: 'mynet',
      driver: 'macvlan',
      scope: 'local',
      parent: 'eno1',
      labels: { 'io.macvlanctl.managed': 'true' },
      options: { parent: 'eno1' },
      enableIPv6: false,
      configOnly: false,
    });
    // macvlan_mode was not given at create time, so the engine does not report it (bridge is implied)
    expect(fact.macvlanMode).toBeUndefined();
    // ConfigFrom {"Network": ""} means none
    expect(fact.configFrom).toBeUndefined();
  });

  it('IPAM config parsed into subnet, gateway, range and aux addresses, raw kept', () => {
    expect(fact.subnets).toHaveLength(1);
    const s = fact.subnets[0]!;
    expect(s.subnet).toEqual(parseCidr('198.51.100.0/24'));
    expect(s.gateway).toEqual(parseAddress('198.51.100.1'));
    expect(s.ipRange).toEqual(parseCidr('198.51.100.192/27'));
    expect(s.auxAddresses).toEqual({ host: parseAddress('198.51.100.223') });
    expect(s.raw).toEqual({ Subnet: '198.51.100.0/24', IPRange: '198.51.100.192/27', Gateway: '198.51.100.1', AuxiliaryAddresses: { host: '198.51.100.223' } });
  });

  it('containers from the Containers map, IPv4Address without its prefix', () => {
    expect(fact.containers).toEqual([{ id: WEB_ID, name: 'web', ipv4: parseAddress('198.51.100.192'), mac: '02:42:c6:33:64:c0' }]);
    expect(formatAddress(fact.containers[0]!.ipv4!)).toBe('198.51.100.192');
  });
});

describe('networkFactFromEngine on GET /networks (list)', () => {
  const list = fixture<EngineNetwork[]>('networks.json');
  const facts = list.map(networkFactFromEngine);

  it('all three networks; the list leaves Containers empty even with web attached', () => {
    expect(facts.map((f) => [f.name, f.driver])).toEqual([
      ['none', 'null'],
      ['host', 'host'],
      ['mynet', 'macvlan'],
    ]);
    const mynet = facts.find((f) => f.name === 'mynet')!;
    expect(mynet.containers).toEqual([]);
    expect(formatCidr(mynet.subnets[0]!.subnet!)).toBe('198.51.100.0/24');
  });

  it('null IPAM Options and empty Config give no subnets', () => {
    const none = facts.find((f) => f.name === 'none')!;
    expect(none).toMatchObject({ subnets: [], labels: {}, options: {}, containers: [], configOnly: false });
    expect(none.parent).toBeUndefined();
  });

  it('only macvlan networks that are not config-only need an inspect', () => {
    expect(list.filter(needsInspect).map((n) => n.Name)).toEqual(['mynet']);
    expect(fixture<EngineNetwork[]>('networks-empty.json').filter(needsInspect)).toEqual([]);
  });
});

describe('lenient parsing and other shapes', () => {
  it('a value that does not parse is left undefined but kept in raw', () => {
    const s = subnetFactFromEngine({ Subnet: '198.51.100.5/24', Gateway: 'not-an-ip', IPRange: '', AuxiliaryAddresses: { a: '198.51.100.9', b: 'x' } });
    expect(s.subnet).toBeUndefined(); // host bits set: parseCidr refuses it
    expect(s.gateway).toBeUndefined();
    expect(s.ipRange).toBeUndefined();
    expect(s.auxAddresses).toEqual({ a: parseAddress('198.51.100.9') });
    expect(s.raw).toMatchObject({ Subnet: '198.51.100.5/24', Gateway: 'not-an-ip', AuxiliaryAddresses: { b: 'x' } });
  });

  it('config-only and config-from (swarm) networks, macvlan mode, IPv6 containers, null maps', () => {
    const configOnly = networkFactFromEngine({
      Name: 'lan-config',
      Id: 'c1',
      Scope: 'local',
      Driver: 'null',
      ConfigOnly: true,
      ConfigFrom: { Network: '' },
      IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: '2001:db8:1::/64', Gateway: '2001:db8:1::1' }] },
      Options: { parent: 'eno1', macvlan_mode: 'bridge' },
      Labels: null,
      Containers: null,
      EnableIPv6: true,
    });
    expect(configOnly).toMatchObject({ configOnly: true, parent: 'eno1', macvlanMode: 'bridge', enableIPv6: true, labels: {}, containers: [] });
    expect(formatCidr(configOnly.subnets[0]!.subnet!)).toBe('2001:db8:1::/64');

    const swarm = networkFactFromEngine({
      Name: 'lan',
      Id: 's1',
      Scope: 'swarm',
      Driver: 'macvlan',
      ConfigFrom: { Network: 'lan-config' },
      Containers: { abc: { Name: 'svc.1.x', IPv4Address: '', IPv6Address: '2001:db8:1::c0/64', MacAddress: '02:42:AA:BB:CC:DD' } },
    });
    expect(swarm).toMatchObject({ scope: 'swarm', configFrom: 'lan-config', subnets: [] });
    expect(swarm.containers).toEqual([{ id: 'abc', name: 'svc.1.x', ipv6: parseAddress('2001:db8:1::c0'), mac: '02:42:aa:bb:cc:dd' }]);
  });
});
