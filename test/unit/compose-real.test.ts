/**
 * Real-world Compose files with macvlan networks (test/fixtures/config/compose-real,
 * sources and the expected plans written down first in its README), each
 * planned against a host whose parent interface carries the file's subnet.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDotEnv } from '../../src/config/compose-dotenv.js';
import { parseConfigFile } from '../../src/config/load-file.js';
import { toDesired } from '../../src/config/to-desired.js';
import type { HostFacts } from '../../src/model/facts.js';
import type { Plan } from '../../src/model/plan.js';
import { parseAddress, parseCidr } from '../../src/net/address.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { hostFacts } from '../support/fixture-facts.js';
import { refusalOf } from '../support/refusal.js';

const DIR = join(import.meta.dirname, '..', 'fixtures', 'config', 'compose-real');

/** The fresh-host fixture with its NIC renamed to `parent` and moved onto the file's LAN (IPv4 only). */
function lanHost(parent: string, address: string, prefix: number, gateway: string): HostFacts {
  const base = hostFacts();
  const nic = base.interfaces.find((i) => i.name === 'eno1')!;
  const subnet = parseCidr(`${address.split('.').slice(0, 3).join('.')}.0/${prefix}`);
  return {
    ...base,
    interfaces: [...base.interfaces.filter((i) => i !== nic), { ...nic, name: parent, addresses: [{ address: parseAddress(address), prefix }] }],
    routes: [
      { family: 4, gateway: parseAddress(gateway), device: parent },
      { family: 4, destination: subnet, device: parent, protocol: 'kernel', scope: 'link', source: parseAddress(address) },
    ],
  };
}

function read(file: string, directory: string, dotEnv?: Record<string, string>) {
  return parseConfigFile(file, readFileSync(join(DIR, file), 'utf8'), { directory: `/srv/${directory}`, ...(dotEnv ? { dotEnv } : {}) });
}

function plan(file: string, directory: string, host: HostFacts, dotEnv?: Record<string, string>): Plan {
  return computePlan(read(file, directory, dotEnv).map(toDesired), host);
}

describe('real-world Compose files (expected plans in compose-real/README.md)', () => {
  it('AdGuard Home, ip_range X/32 and AdGuard at a fixed address outside it (Ghost76vlad/AdGuard_Home-Docker)', () => {
    const host = lanHost('ens18', '10.10.10.2', 24, '10.10.10.1');
    const e = refusalOf(() => plan('adguard-mynet01.yml', 'adguard', host));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain('ip-range 10.10.10.170/32 leaves no address for a container');
    expect(e.message).toContain('host_access: {address: …}');
    const text = `${readFileSync(join(DIR, 'adguard-mynet01.yml'), 'utf8').trimEnd()}\n    x-macvlanctl: {host_access: {address: 10.10.10.250}}\n`;
    const p = computePlan(parseConfigFile('compose.yml', text, { directory: '/srv/adguard' }).map(toDesired), host);
    const n = p.networks[0]!;
    expect(n).toMatchObject({ name: 'MyNet01', parent: 'ens18', ipRange: '10.10.10.170/32', shim: { address: '10.10.10.250', routes: ['10.10.10.170/32', '10.10.10.4/32'] } });
    expect(n.labels).toMatchObject({ 'com.docker.compose.project': 'adguard', 'com.docker.compose.network': 'default' });
    expect(n.docker.options).toEqual({ parent: 'ens18' });
  });

  it('AdGuard Home + Unbound with 192.168.x placeholders: each at its line (trinhlehainam/Isekaijitaku)', () => {
    const e = refusalOf(() => plan('adguard-unbound-placeholders.yaml', 'local-dns', lanHost('eth0', '192.168.1.2', 24, '192.168.1.1')));
    expect(e.code).toBe('ADDRESS_INVALID');
    for (const where of ['ipam.config[0].subnet', 'ipam.config[0].gateway', 'ipam.config[0].ip_range']) expect(e.message).toContain(`networks.adguardhome-macvlan.${where}`);
    expect(e.message).toContain('services.adguardhome.networks.adguardhome-macvlan.ipv4_address');
  });

  it('Portainer with the network key written twice: CONFIG_SYNTAX (sarunas-zilinskas/docker-compose-macvlan)', () => {
    const e = refusalOf(() => read('portainer-duplicate-key.yml', 'portainer'));
    expect(e.code).toBe('CONFIG_SYNTAX');
    expect(e.message).toMatch(/^portainer-duplicate-key\.yml:30:3: YAML syntax error: this key appears twice/);
  });

  it('print server with ip_range X/32 and no fixed address: the shim does not take the container’s only address (zix99/virtual-cups-printer)', () => {
    const e = refusalOf(() => plan('cups-printer.yml', 'vprint', lanHost('eth0', '192.168.0.2', 24, '192.168.0.1')));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(/cups-printer\.yml:21:21 networks\.cups-vlan\.ipam\.config\[0\]\.ip_range: ip-range 192\.168\.0\.12\/32 leaves no address for a container/);
    expect(e.message).toContain('host_access: {address: …}');
  });

  it('AdGuard Home on an external network only: told how to give the host access (LegionGi/Adguard_synology_docker_compose)', () => {
    const e = refusalOf(() => read('adguard-synology-external.yml', 'adguard'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain('networks found: adguard_network (external)');
    expect(e.message).toContain('x-macvlanctl: {networks: {adguard_network: {host_access: true}}}');
  });

  it('Home Assistant stack with five fixed addresses inside the range (mlilley/mlhome-ha)', () => {
    const p = plan('homeassistant-stack.yaml', 'mlhome-ha', lanHost('enp116s0', '192.168.1.2', 24, '192.168.1.1'));
    const n = p.networks[0]!;
    expect(n).toMatchObject({
      name: 'mlhome-ha_macvlan1',
      parent: 'enp116s0',
      subnet: '192.168.1.0/24',
      gateway: '192.168.1.1',
      ipRange: '192.168.1.32/28',
      shim: { address: '192.168.1.47', routes: ['192.168.1.32/28'] },
    });
    expect(n.docker.options).toEqual({ parent: 'enp116s0' });
    expect(n.labels).toMatchObject({ 'com.docker.compose.project': 'mlhome-ha', 'com.docker.compose.network': 'macvlan1' });
  });

  it('a blog post’s file whose ip_range is the whole subnet: PLAN_UNSAFE (muxync/pelican-content)', () => {
    const e = refusalOf(() => plan('syncthing-blog.yml', 'blog', lanHost('enp1s0', '192.168.1.2', 24, '192.168.1.10')));
    expect(e.code).toBe('PLAN_UNSAFE');
    expect(e.message).toContain('is the whole subnet');
  });

  it('CUPS on an external network only (Lujiang0111/Scripts)', () => {
    const e = refusalOf(() => read('cupsd-external.yml', 'cupsd'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain('networks found: macvlan_enp6s18 (external)');
  });

  it('Pi-hole with ip_range 192.168.1.254/24, not a block: refused at its place (DeiLucri/pihole-nas-syno)', () => {
    const e = refusalOf(() => plan('pihole-synology.yml', 'pihole', lanHost('ovs_eth0', '192.168.1.2', 24, '192.168.1.1')));
    expect(e.code).toBe('ADDRESS_INVALID');
    expect(e.message).toContain('pihole-synology.yml:39:21 networks.macvlan.ipam.config[0].ip_range');
  });

  it('Pi-hole + Unbound, every value from the .env beside it (digtalaloha/synology-docker-pihole-unbound)', () => {
    const dotEnv = parseDotEnv('.env', readFileSync(join(DIR, 'pihole-unbound-dotenv', '.env'), 'utf8'));
    const p = plan('pihole-unbound-dotenv/docker-compose.yaml', 'pihole-unbound-dotenv', lanHost('eth0', '192.168.81.2', 24, '192.168.81.1'), dotEnv);
    expect(p.networks).toHaveLength(1);
    expect(p.networks[0]).toMatchObject({
      name: 'pihole-unbound-dotenv_macvlan',
      parent: 'eth0',
      subnet: '192.168.81.0/24',
      gateway: '192.168.81.1',
      ipRange: '192.168.81.104/30',
      shim: { address: '192.168.81.107', routes: ['192.168.81.104/30'] },
    });
    const e = refusalOf(() => read('pihole-unbound-dotenv/docker-compose.yaml', 'pihole-unbound-dotenv'));
    expect(e.code).toBe('CONFIG_INVALID');
    for (const v of ['NETWORK_INTERFACE', 'MACVLAN_SUBNET', 'MACVLAN_GATEWAY', 'MACVLAN_IP_RANGE']) expect(e.message).toContain(`variable ${v} is not set`);
  });

  it('Samba AD domain controllers on a default-driver network: no macvlan network (diegogslomp/samba-ad-dc)', () => {
    const e = refusalOf(() => read('samba-ad-dc.yml', 'samba-ad-dc'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain('networks found: static-network (default driver)');
  });
});
