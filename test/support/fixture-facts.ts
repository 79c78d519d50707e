/**
 * HostFacts built from output captured from real `ip -json` runs (see
 * test/fixtures/README.md), so planner tests see exactly what the system shows.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DockerFacts, DockerNetworkFact, HostFacts } from '../../src/model/facts.js';
import { parseAddress, parseCidr } from '../../src/net/address.js';
import { parseInterfaces, parseRoutes } from '../../src/gather/ip-facts.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

export function fixture(path: string): string {
  return readFileSync(join(FIXTURES, path), 'utf8');
}

/** lab-host drifted (see test/fixtures/README.md): the shim in private mode, the parent at MTU 9000, the parent down. */
export type DriftFixture = 'drift-private-shim' | 'drift-parent-mtu' | 'drift-parent-down';
export type IpFixture = 'fresh-host' | 'lab-host' | DriftFixture;

export function ipFacts(name: IpFixture, wireless: string[] = []) {
  // The drift captures are IPv4-only: they have no route6 file.
  const route6 = existsSync(join(FIXTURES, `ip/${name}.route6.json`)) ? parseRoutes(fixture(`ip/${name}.route6.json`), 6) : [];
  return {
    interfaces: parseInterfaces(fixture(`ip/${name}.addr.json`), (n) => wireless.includes(n)),
    routes: [...parseRoutes(fixture(`ip/${name}.route4.json`), 4), ...route6],
  };
}

export function noDocker(): DockerFacts {
  return { available: false, endpoint: 'unix:///nonexistent.sock', reason: 'connect ENOENT' };
}

export function docker(networks: DockerNetworkFact[] = [], engineVersion = '20.10.24+dfsg1'): DockerFacts {
  return { available: true, endpoint: 'unix:///run/docker.sock', apiVersion: '1.41', engineVersion, networks };
}

export function hostFacts(name: IpFixture = 'fresh-host', over: Partial<HostFacts> = {}): HostFacts {
  return { ...ipFacts(name), docker: docker(), hostId: 'test-host-id', ...over };
}

/**
 * The LAN facts of an ARP sweep of fresh-host's LAN (eno1, 198.51.100.0/24)
 * that heard these hosts and probed no DHCP: live hosts reach the planner
 * this way in production (gather/lan-for-plan.ts), never any other.
 */
export function liveHosts(...texts: string[]): Pick<HostFacts, 'lan'> {
  const live = texts.map((address, i) => ({ address, mac: `02:00:00:00:00:${(i + 1).toString(16).padStart(2, '0')}` }));
  return { lan: { scans: [{ parent: 'eno1', subnet: '198.51.100.0/24', scannedAt: '2026-12-01T10:00:00.000Z', durationMs: 1000, live }], skipped: [] } };
}

/** A Docker network named mynet on eno1 with other settings than the tests' recipe (no ip-range): a replace, or a refusal. */
export function mynetWithOtherSettings(over: Partial<DockerNetworkFact> = {}): DockerNetworkFact {
  return {
    id: 'abc',
    name: 'mynet',
    driver: 'macvlan',
    scope: 'local',
    parent: 'eno1',
    labels: {},
    options: { parent: 'eno1' },
    subnets: [{ subnet: parseCidr('198.51.100.0/24'), gateway: parseAddress('198.51.100.1'), auxAddresses: {}, raw: { Subnet: '198.51.100.0/24', Gateway: '198.51.100.1' } }],
    enableIPv6: false,
    containers: [],
    configOnly: false,
    ...over,
  };
}
