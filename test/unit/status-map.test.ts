/**
 * status with a fresh scan: the address map of each network's subnet (on a
 * terminal), and what the scan saw as additional --json fields. Host facts
 * from real `ip -json` output (lab-host: eno1 .24, mynet-shim .223 with the
 * route .192/27); offers from a real dnsmasq (pool .100–.199).
 */
import { describe, expect, it } from 'vitest';
import { presentStatus, statusMaps } from '../../src/present/status.js';
import { networkLan } from '../../src/plan/network-lan.js';
import { addressMapInput } from '../../src/present/address-map-input.js';
import { describeNetwork } from '../../src/plan/network-status.js';
import type { NetworkState } from '../../src/system/state-store.js';
import type { DockerNetworkFact } from '../../src/model/facts.js';
import type { LanScan } from '../../src/model/lan.js';
import { parseAddress, parseCidr } from '../../src/net/address.js';
import { docker, fixture, hostFacts } from '../support/fixture-facts.js';

const mynet: DockerNetworkFact = {
  id: 'id-mynet',
  name: 'mynet',
  driver: 'macvlan',
  scope: 'local',
  parent: 'eno1',
  labels: { 'io.macvlanctl.managed': 'true', 'io.macvlanctl.shim': 'mynet-shim', 'io.macvlanctl.shim-mac': '02:6d:76:6c:00:01', 'io.macvlanctl.host-address': '198.51.100.223' },
  options: { parent: 'eno1' },
  subnets: [
    { subnet: parseCidr('198.51.100.0/24'), gateway: parseAddress('198.51.100.1'), ipRange: parseCidr('198.51.100.192/27'), auxAddresses: { host: parseAddress('198.51.100.223') }, raw: {} },
  ],
  enableIPv6: false,
  containers: [{ id: 'c1', name: 'web', ipv4: parseAddress('198.51.100.192'), mac: '02:42:c6:33:64:c0' }],
  configOnly: false,
};

const offers = fixture('dhcp/dnsmasq-hash-12.txt')
  .trim()
  .split('\n')
  .map((l) => {
    const [clientMac, address] = l.split(' ');
    return { address: address!, server: '198.51.100.1', clientMac: clientMac! };
  });

const SCAN: LanScan = {
  parent: 'eno1',
  subnet: '198.51.100.0/24',
  scannedAt: '2026-12-01T10:00:00.000Z',
  durationMs: 4000,
  live: [
    { address: '198.51.100.1', mac: '02:00:c6:33:64:01' },
    { address: '198.51.100.192', mac: '02:42:c6:33:64:c0' }, // our container
    { address: '198.51.100.223', mac: '02:6d:76:6c:00:01' }, // our shim
    { address: '198.51.100.205', mac: '02:99:00:00:00:cd' }, // a squatter
  ],
  dhcp: { servers: [{ address: '198.51.100.1' }], offers },
};

const facts = hostFacts('lab-host', { docker: docker([mynet]) });
const status = describeNetwork('mynet', mynet, facts);
const NOW = new Date('2026-12-01T10:02:04.000Z');

describe('status with a fresh scan', () => {
  it('names the live hosts that are not ours and those inside the ip-range, the offers and the pool', () => {
    const lan = networkLan(status, SCAN, facts, NOW)!;
    expect(lan).toMatchObject({
      scannedAt: '2026-12-01T10:00:00.000Z',
      ageSeconds: 120,
      live: [
        { address: '198.51.100.1', mac: '02:00:c6:33:64:01' },
        { address: '198.51.100.205', mac: '02:99:00:00:00:cd' },
      ],
      inRange: ['198.51.100.205'],
    });
    expect(lan.dhcp?.offers).toHaveLength(12);
    expect(lan.dhcp?.pools).toEqual([expect.objectContaining({ server: '198.51.100.1', first: '198.51.100.79', last: '198.51.100.220', confidence: 'high' })]);
  });

  it('the map shows the gateway, this host, the shim, the container, the Docker range and what the scan saw', () => {
    const input = addressMapInput({ subnet: status.subnet!, parent: status.parent, gateway: status.gateway }, facts, SCAN);
    expect(input).toMatchObject({
      subnet: '198.51.100.0/24',
      gateway: '198.51.100.1',
      host: ['198.51.100.24'],
      shims: ['198.51.100.223'],
      containers: ['198.51.100.192'],
      dockerRanges: ['198.51.100.192/27'],
    });
    expect(input.live).toHaveLength(4);
    expect(input.pools).toHaveLength(1);
  });

  it('presents the scan, warns about the squatter and draws the map under the network', () => {
    const s = { networks: [{ ...status, lan: networkLan(status, SCAN, facts, NOW)! }], docker: 'unix:///run/docker.sock (engine 20.10.24+dfsg1)' };
    const maps = statusMaps({ result: s, facts, scans: new Map([['mynet', SCAN]]) }, false);
    const text = presentStatus(s, maps);
    expect(text).toMatch(/ {2}lan {7}scanned 2 min ago: 2 other live host\(s\); DHCP 198\.51\.100\.1 pool ≈ 198\.51\.100\.79–198\.51\.100\.220 \(high\)/);
    expect(text).toMatch(/warning: 198\.51\.100\.205 answered inside the ip-range 198\.51\.100\.192\/27 and is not a container of this host/);
    expect(text).toMatch(/\n\n198\.51\.100\.0\/24 {2}1 cell = 1 address, 64 per row\n198\.51\.100\.0 {4}xG\.{22}H/);
    // .192 our container; .193, .197 and .198 offered by the DHCP server inside the range, .205 the squatter: conflicts
    expect(text).toMatch(/\n198\.51\.100\.192 {2}C!===!!======!=+S\.+x\n/);
    expect(Math.max(...text.split('\n').filter((l) => /^198\.51/.test(l)).map((l) => l.length))).toBe(80);
  });

  it('without a scan the map is drawn from the facts, with a hint to scan', () => {
    const s = { networks: [status], docker: 'x' };
    const text = presentStatus(s, statusMaps({ result: s, facts, scans: new Map() }, false));
    expect(text).not.toMatch(/ lan /);
    expect(text).toMatch(/\n198\.51\.100\.192 {2}C==============================S\.+x\n/);
    expect(text).toMatch(/no scan of eno1 in the last 5 minutes: sudo macvlanctl scan --parent eno1 adds live hosts and the DHCP pool/);
  });

  it('without maps (no terminal) the text output is as before', () => {
    const s = { networks: [status], docker: 'x' };
    expect(presentStatus(s)).not.toMatch(/cell/);
    expect(presentStatus(s, { maps: new Map() })).toBe(presentStatus(s));
  });
});

describe('the shim’s host address', () => {
  it('a route left from an earlier range is a problem', () => {
    const f = structuredClone(facts);
    const old = f.routes.find((r) => r.device === 'mynet-shim' && r.destination && r.protocol !== 'kernel')!;
    f.routes.push({ ...old, destination: parseCidr('198.51.100.160/27') });
    expect(describeNetwork('mynet', mynet, f).problems).toEqual(["shim mynet-shim still routes 198.51.100.160/27, not this network's range"]);
  });

  it("a service's fixed address outside the range: its recorded /32 route is not stale, and its absence is a problem", () => {
    const record = (shim: Record<string, unknown>) =>
      ({
        schemaVersion: 1,
        name: 'mynet',
        appliedAt: '2026-01-01T00:00:00.000Z',
        macvlanctlVersion: 'test',
        network: { name: 'mynet', parent: 'eno1', shim: { interface: 'mynet-shim', mac: '02:6d:76:6c:00:01', address: '198.51.100.223', mode: 'bridge', ...shim } },
      }) as unknown as NetworkState;
    const state = record({ routes: ['198.51.100.192/27', '198.51.100.8/32'] });
    const f = structuredClone(facts);
    const old = f.routes.find((r) => r.device === 'mynet-shim' && r.destination && r.protocol !== 'kernel')!;
    // Without the route, apply and up would add it: status must not call the network healthy.
    expect(describeNetwork('mynet', mynet, f, state).problems).toEqual(['route 198.51.100.8/32 via mynet-shim is missing']);
    f.routes.push({ ...old, destination: parseCidr('198.51.100.8/32') });
    expect(describeNetwork('mynet', mynet, f, state).problems).toEqual([]);
  });

  it('is found among other /32s on the shim (a stale one listed first), and missing only when it is not there', () => {
    const withStale = structuredClone(facts);
    const shim = withStale.interfaces.find((i) => i.name === 'mynet-shim')!;
    const own = shim.addresses.find((a) => a.address.family === 4 && a.prefix === 32)!;
    shim.addresses.unshift({ ...own, address: parseAddress('198.51.100.222') });
    const s = describeNetwork('mynet', mynet, withStale);
    // the stale one is a problem of its own (apply removes it), not taken for the host address
    expect(s.problems).toEqual(['shim mynet-shim still holds the stale address 198.51.100.222/32']);
    expect(s.shim.address).toBe('198.51.100.223');
    shim.addresses.splice(shim.addresses.indexOf(own), 1);
    expect(describeNetwork('mynet', mynet, withStale).problems).toEqual([
      'shim mynet-shim lacks its address 198.51.100.223',
      'shim mynet-shim still holds the stale address 198.51.100.222/32',
    ]);
  });
});

describe("a service's fixed address outside the ip-range (Compose)", () => {
  // apply recorded the route .8/32 through the shim (Pi-hole at .8, range .192/27)
  const state = {
    schemaVersion: 1 as const,
    name: 'mynet',
    appliedAt: '2026-12-01T10:00:00.000Z',
    macvlanctlVersion: 'test',
    // a record names its network and parent (the shim's problems are its host-side diff, which needs both)
    network: {
      name: 'mynet',
      parent: 'eno1',
      shim: { interface: 'mynet-shim', address: '198.51.100.223', mac: '02:6d:76:6c:00:01', mode: 'bridge', routes: ['198.51.100.192/27', '198.51.100.8/32'] },
    },
  } as unknown as NetworkState;

  it('its recorded /32 route is not stale', () => {
    const f = structuredClone(facts);
    const old = f.routes.find((r) => r.device === 'mynet-shim' && r.destination && r.protocol !== 'kernel')!;
    f.routes.push({ ...old, destination: parseCidr('198.51.100.8/32') });
    expect(describeNetwork('mynet', mynet, f, state).problems).toEqual([]);
  });

  it('a missing /32 route is a problem, as doctor says', () => {
    expect(describeNetwork('mynet', mynet, facts, state).problems).toEqual(['route 198.51.100.8/32 via mynet-shim is missing']);
  });
});

describe('a dual-stack network Docker has with IPv6 off', () => {
  it('is a problem: its containers get no IPv6 address', () => {
    const state = { schemaVersion: 1, name: 'mynet', appliedAt: 'x', macvlanctlVersion: 'test', network: { docker: { enableIPv6: true }, compose: { project: 'home_lab', key: 'lan', external: false } } } as unknown as NetworkState;
    expect(describeNetwork('mynet', mynet, facts, state).problems).toContain('Docker network mynet has IPv6 off, so its containers get no IPv6 address; add enable_ipv6: true to the Compose file, then docker compose down and up');
    const v4only = { ...state, network: { docker: { enableIPv6: false } } } as unknown as NetworkState;
    expect(describeNetwork('mynet', mynet, facts, v4only).problems).toEqual([]);
  });
});
