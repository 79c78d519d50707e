/**
 * Services' fixed addresses (services.S.networks.KEY.ipv4_address) are facts
 * the planner keeps clear of: the shim's address, a carved range, and host
 * routes for the ones outside the ip-range.
 */
import { describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../src/config/load-file.js';
import { toDesired } from '../../src/config/to-desired.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { parseCidr } from '../../src/net/address.js';
import { hostFacts } from '../support/fixture-facts.js';
import { refusalOf } from '../support/refusal.js';

function file(ipam: string[], services: Record<string, string>, extra: string[] = []): string {
  const lines = ['services:'];
  for (const [name, address] of Object.entries(services)) lines.push(`  ${name}:`, '    image: busybox', '    networks:', '      lan:', `        ipv4_address: ${address}`);
  lines.push('networks:', '  lan:', '    driver: macvlan', '    driver_opts: {parent: eno1}', '    ipam:', '      config:', ...ipam.map((l) => `        ${l}`), ...extra);
  return `${lines.join('\n')}\n`;
}

const plan = (text: string) => computePlan(parseConfigFile('compose.yaml', text, { directory: '/srv/dns' }).map(toDesired), hostFacts());

describe('services’ fixed addresses', () => {
  it('are read with their place', () => {
    const [raw] = parseConfigFile('compose.yaml', file(['- subnet: 198.51.100.0/24'], { pihole: '198.51.100.8' }), { directory: '/srv/dns' });
    expect(raw!.staticAddresses).toEqual([{ service: 'pihole', address: '198.51.100.8' }]);
    expect(raw!.origins['static.0']).toBe('compose.yaml:6:23 services.pihole.networks.lan.ipv4_address');
  });

  it('ip_range .254/32 for the one container at .254: the shim does not take .254, and says what to do', () => {
    const e = refusalOf(() => plan(file(['- subnet: 198.51.100.0/24', '  ip_range: 198.51.100.254/32'], { pihole: '198.51.100.254' })));
    expect(e.code).toBe('RANGE_CONFLICT');
    expect(e.message).toContain('the ip-range 198.51.100.254/32 holds a single address, which is the container’s, so none is left for the host\'s shim');
    const ok = plan(file(['- subnet: 198.51.100.0/24', '  ip_range: 198.51.100.254/32'], { pihole: '198.51.100.254' }, ['    x-macvlanctl: {host_access: {address: 198.51.100.250}}']));
    expect(ok.networks[0]!.shim).toMatchObject({ address: '198.51.100.250', routes: ['198.51.100.254/32'] });
  });

  it('the automatic shim address skips a fixed address at the top of the range', () => {
    const p = plan(file(['- subnet: 198.51.100.0/24', '  ip_range: 198.51.100.192/28'], { pihole: '198.51.100.207' }));
    expect(p.networks[0]!.shim!.address).toBe('198.51.100.206');
    expect(p.networks[0]!.auxAddresses).toEqual({ host: '198.51.100.206' });
  });

  it('the automatic shim address skips an aux address at the top of the range (Docker cannot reserve one address twice)', () => {
    const p = plan(file(['- subnet: 198.51.100.0/24', '  ip_range: 198.51.100.192/27', '  aux_addresses: {printer: 198.51.100.223}'], {}));
    expect(p.networks[0]!.shim!.address).toBe('198.51.100.222');
    expect(p.networks[0]!.auxAddresses).toEqual({ host: '198.51.100.222', printer: '198.51.100.223' });
  });

  it('an explicit shim address that is a service’s fixed address is refused', () => {
    const e = refusalOf(() => plan(file(['- subnet: 198.51.100.0/24', '  ip_range: 198.51.100.192/27', '  aux_addresses: {host: 198.51.100.200}'], { pihole: '198.51.100.200' })));
    expect(e.code).toBe('RANGE_CONFLICT');
    expect(e.message).toContain("service pihole's fixed address 198.51.100.200");
  });

  it('a carved range keeps clear of fixed addresses', () => {
    const free = plan(file(['- subnet: 198.51.100.0/24'], {}, ['    x-macvlanctl: {ip_range: auto/27}'])).networks[0]!.ipRange;
    const top = free.replace(/\.(\d+)\/27$/, (_m, b: string) => `.${Number(b) + 31}`).replace(/\/27$/, '');
    const p = plan(file(['- subnet: 198.51.100.0/24'], { web: top }, ['    x-macvlanctl: {ip_range: auto/27}']));
    expect(p.networks[0]!.ipRange).not.toBe(free);
    expect(p.networks[0]!.shim!.address).not.toBe(top);
  });

  it('a fixed address outside the ip-range gets its own host route through the shim (Pi-hole at .8, range .192/27)', () => {
    const p = plan(file(['- subnet: 198.51.100.0/24', '  ip_range: 198.51.100.192/27'], { pihole: '198.51.100.8', web: '198.51.100.193' }));
    expect(p.networks[0]!.shim!.routes).toEqual(['198.51.100.192/27', '198.51.100.8/32']);
    const route = p.changes.find((c) => c.kind === 'shim-route' && c.destination === '198.51.100.8/32');
    expect(route).toMatchObject({ action: 'create', reason: "reach a service's fixed address outside the ip-range through the shim" });
  });

  it('a route to the fixed address that is not ours (a hand-made shim from a macvlan guide) is refused before anything changes', () => {
    const facts = hostFacts();
    facts.routes.push({ family: 4, destination: parseCidr('198.51.100.8/32'), device: 'mac0', protocol: 'boot', scope: 'link' });
    const text = file(['- subnet: 198.51.100.0/24', '  ip_range: 198.51.100.192/27'], { pihole: '198.51.100.8' });
    const e = refusalOf(() => computePlan(parseConfigFile('compose.yaml', text, { directory: '/srv/dns' }).map(toDesired), facts));
    expect(e.code).toBe('PLAN_UNSAFE');
    expect(e.message).toContain("the route to 198.51.100.8/32 via mac0 already exists and is the host route 198.51.100.8/32 to service pihole's fixed address; it is not ours");
  });

  it('a fixed address outside the subnet is refused at its place', () => {
    const e = refusalOf(() => plan(file(['- subnet: 198.51.100.0/24', '  ip_range: 198.51.100.192/27'], { pihole: '203.0.113.8' })));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(/compose\.yaml:6:23 services\.pihole\.networks\.lan\.ipv4_address: service pihole's address 203\.0\.113\.8 is outside the subnet/);
  });
});

describe('fixed addresses Docker would refuse to give a container', () => {
  it('an aux address or the subnet’s own address is refused at its place', () => {
    const aux = refusalOf(() => plan(file(['- subnet: 198.51.100.0/24', '  ip_range: 198.51.100.192/27', '  aux_addresses: {printer: 198.51.100.9}'], { pihole: '198.51.100.9' })));
    expect(aux.code).toBe('CONFIG_INVALID');
    expect(aux.message).toContain("services.pihole.networks.lan.ipv4_address: service pihole's address 198.51.100.9 is also aux address 'printer'");
    const base = refusalOf(() => plan(file(['- subnet: 198.51.100.0/24', '  ip_range: 198.51.100.192/27'], { pihole: '198.51.100.0' })));
    expect(base.message).toContain("service pihole's address 198.51.100.0 is the subnet's own address");
    // Two services with one address may be alternatives (Compose profiles): not refused, one host route.
    const twice = plan(file(['- subnet: 198.51.100.0/24', '  ip_range: 198.51.100.192/27'], { pihole: '198.51.100.8', adguard: '198.51.100.8' }));
    expect(twice.networks[0]!.shim!.routes).toEqual(['198.51.100.192/27', '198.51.100.8/32']);
  });

  it('this host’s own address (eno1 .24) is refused: the container and the host would both answer for it', () => {
    const e = refusalOf(() => plan(file(['- subnet: 198.51.100.0/24', '  ip_range: 198.51.100.192/27'], { pihole: '198.51.100.24' })));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain("service pihole's address 198.51.100.24 is this host's own address on eno1");
  });

  it('an IPv6 address Docker’s IPAM cannot hold (the last of a /64) is refused, not given a /128 route', () => {
    const text = [
      'services:',
      '  pihole:',
      '    image: busybox',
      '    networks:',
      '      lan:',
      '        ipv6_address: 2001:db8:1::ffff:ffff:ffff:ffff',
      'networks:',
      '  lan:',
      '    driver: macvlan',
      '    enable_ipv6: true',
      '    driver_opts: {parent: eno1}',
      '    ipam:',
      '      config:',
      '        - subnet: 198.51.100.0/24',
      '          ip_range: 198.51.100.192/27',
      '        - subnet: 2001:db8:1::/64',
      '          ip_range: 2001:db8:1::1:0/112',
      '',
    ].join('\n');
    const e = refusalOf(() => plan(text));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain("services.pihole.networks.lan.ipv6_address: service pihole's address 2001:db8:1:0:ffff:ffff:ffff:ffff cannot be given to a container");
    expect(e.message).toContain("Docker's IPAM cannot hold");
    const own = refusalOf(() => plan(text.replace('2001:db8:1::ffff:ffff:ffff:ffff', '2001:db8:1::24')));
    expect(own.message).toContain("service pihole's address 2001:db8:1::24 is this host's own address on eno1");
    const ok = plan(text.replace('2001:db8:1::ffff:ffff:ffff:ffff', '2001:db8:1::53'));
    expect(ok.networks[0]!.shim!.routes).toContain('2001:db8:1::53/128');
  });
});

describe('COMPOSE_FILE_INCOMPLETE', () => {
  it('a dual-stack network whose file leaves out enable_ipv6: true is told to add it (Compose would re-create it with IPv6 off)', () => {
    const text = [
      'networks:',
      '  lan:',
      '    driver: macvlan',
      '    driver_opts: {parent: eno1}',
      '    ipam:',
      '      config:',
      '        - subnet: 198.51.100.0/24',
      '          gateway: 198.51.100.1',
      '          ip_range: 198.51.100.192/27',
      '          aux_addresses: {host: 198.51.100.223}',
      '        - subnet: 2001:db8:1::/64',
      '          gateway: 2001:db8:1::1',
      '          ip_range: 2001:db8:1::1:0/112',
      '          aux_addresses: {host: 2001:db8:1::1:ffff}',
      '',
    ].join('\n');
    const w = plan(text).warnings.find((x) => x.code === 'COMPOSE_FILE_INCOMPLETE')!;
    expect(w.message).toContain('the Compose file does not say enable_ipv6: true for network lan');
    expect(w.fix).toMatch(/\n {4}enable_ipv6: true +# add\n/);
    const complete = text.replace('    driver: macvlan\n', '    driver: macvlan\n    enable_ipv6: true\n');
    expect(plan(complete).warnings.map((x) => x.code)).not.toContain('COMPOSE_FILE_INCOMPLETE');
  });

  it('says nothing when the file states everything the network depends on', () => {
    const p = plan(file(['- subnet: 198.51.100.0/24', '  gateway: 198.51.100.1', '  ip_range: 198.51.100.192/27', '  aux_addresses: {host: 198.51.100.223}'], {}));
    expect(p.warnings.map((w) => w.code)).not.toContain('COMPOSE_FILE_INCOMPLETE');
  });

  it('gives the exact lines to add for a carved ip_range, an inferred gateway and the shim’s aux address, at their place', () => {
    const p = plan(file(['- subnet: 198.51.100.0/24'], {}, ['    x-macvlanctl: {ip_range: auto/27}']));
    const w = p.warnings.find((x) => x.code === 'COMPOSE_FILE_INCOMPLETE')!;
    const n = p.networks[0]!;
    expect(w.message).toContain(`the Compose file does not say gateway: 198.51.100.1, ip_range: ${n.ipRange}, host: ${n.shim!.address} for network lan`);
    expect(w.fix).toBe(
      [
        'add the lines marked "# add" to the file:',
        'networks:',
        '  lan:',
        '    driver_opts:',
        '      parent: eno1',
        '    ipam:',
        '      config:',
        '        - subnet: 198.51.100.0/24',
        `          gateway: 198.51.100.1        # add`,
        `          ip_range: ${n.ipRange}`.padEnd(37) + '  # add',
        '          aux_addresses:               # add',
        `            host: ${n.shim!.address}`.padEnd(37) + '  # add',
      ].join('\n'),
    );
  });
});
