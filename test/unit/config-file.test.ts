import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type ConfigProblem, parseConfigFile, readConfigFile } from '../../src/config/load-file.js';
import type { RawNetwork } from '../../src/config/raw.js';
import { toDesired } from '../../src/config/to-desired.js';
import { MacvlanError } from '../../src/model/errors.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/config/', import.meta.url));
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

/** Lines joined with \n, so test inputs read like files. */
const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

function failure(text: string, fileName = 'macvlanctl.yaml'): MacvlanError {
  try {
    parseConfigFile(fileName, text);
  } catch (e) {
    expect(e).toBeInstanceOf(MacvlanError);
    return e as MacvlanError;
  }
  throw new Error('expected parseConfigFile to throw');
}

function problems(e: MacvlanError): ConfigProblem[] {
  return e.details.problems as ConfigProblem[];
}

/** The text at a `FILE:LINE:COL …` origin. */
function textAt(text: string, origin: string): string {
  const m = /^[^:]+:(\d+):(\d+) /.exec(origin);
  if (!m) throw new Error(`not an origin: ${origin}`);
  const line = text.split('\n')[Number(m[1]) - 1]!;
  return line.slice(Number(m[2]) - 1);
}

/** Every string value must sit exactly at the place its origin names. */
function expectOriginsPointAtValues(text: string, raw: RawNetwork): void {
  const values: [string, string][] = [];
  for (const key of ['parent', 'subnet', 'gateway', 'ipRange', 'hostAddress', 'mode', 'shimInterface', 'persist'] as const) {
    const v = raw[key];
    if (v !== undefined) values.push([key, v]);
  }
  for (const key of ['subnet', 'gateway', 'ipRange', 'hostAddress'] as const) {
    const v = raw.ipv6?.[key];
    if (v !== undefined) values.push([`ipv6.${key}`, v]);
  }
  for (const [k, v] of Object.entries(raw.auxAddresses ?? {})) values.push([`auxAddresses.${k}`, v]);
  (raw.avoid ?? []).forEach((v, i) => values.push([`avoid.${i}`, v]));
  expect(values.length).toBeGreaterThan(0);
  for (const [key, value] of values) {
    const origin = raw.origins[key];
    expect(origin, key).toBeDefined();
    expect(textAt(text, origin!).replace(/^['"]/, ''), `${key} at ${origin}`).toMatch(new RegExp(`^${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  }
}

describe('parseConfigFile: macvlanctl.yaml', () => {
  const text = fixture('macvlanctl.yaml');

  it('reads a full file with every field', () => {
    const [lan, iot, ...rest] = parseConfigFile('macvlanctl.yaml', text);
    expect(rest).toEqual([]);
    const { origins: _lanOrigins, ...lanValues } = lan!;
    expect(lanValues).toEqual({
      name: 'lan',
      parent: 'eno1',
      subnet: '198.51.100.0/24',
      gateway: '198.51.100.1',
      ipRange: '198.51.100.192/27',
      hostAddress: '198.51.100.223',
      avoid: ['198.51.100.100-198.51.100.190', '198.51.100.250'],
      auxAddresses: { printer: '198.51.100.9' },
      mode: 'bridge',
      hostAccess: true,
      shimInterface: 'lan-shim',
      persist: 'networkd',
      ipv6: { subnet: '2001:db8:1::/64', gateway: '2001:db8:1::1', ipRange: '2001:db8:1::1000/116', hostAddress: 'auto' },
    });
    const { origins: _iotOrigins, ...iotValues } = iot!;
    expect(iotValues).toEqual({ name: 'iot', parent: 'eno1', subnet: '203.0.113.0/24', ipRange: 'auto/28', hostAccess: false });
  });

  it('records exact line:col origins pointing at the values', () => {
    const [lan, iot] = parseConfigFile('macvlanctl.yaml', text);
    expect(lan!.origins).toMatchObject({
      name: 'macvlanctl.yaml:3:3 networks.lan',
      parent: 'macvlanctl.yaml:4:13 networks.lan.parent',
      subnet: 'macvlanctl.yaml:5:13 networks.lan.subnet',
      gateway: 'macvlanctl.yaml:6:14 networks.lan.gateway',
      ipRange: 'macvlanctl.yaml:7:15 networks.lan.ip_range',
      hostAddress: 'macvlanctl.yaml:8:19 networks.lan.host_address',
      'avoid.0': 'macvlanctl.yaml:10:9 networks.lan.avoid[0]',
      'avoid.1': 'macvlanctl.yaml:11:9 networks.lan.avoid[1]',
      'auxAddresses.printer': 'macvlanctl.yaml:13:16 networks.lan.aux_addresses.printer',
      mode: 'macvlanctl.yaml:14:11 networks.lan.mode',
      hostAccess: 'macvlanctl.yaml:16:7 networks.lan.host_access',
      shimInterface: 'macvlanctl.yaml:16:18 networks.lan.host_access.interface',
      persist: 'macvlanctl.yaml:17:14 networks.lan.persist',
      'ipv6.subnet': 'macvlanctl.yaml:19:15 networks.lan.ipv6.subnet',
      'ipv6.gateway': 'macvlanctl.yaml:20:16 networks.lan.ipv6.gateway',
      'ipv6.ipRange': 'macvlanctl.yaml:21:17 networks.lan.ipv6.ip_range',
      'ipv6.hostAddress': 'macvlanctl.yaml:22:21 networks.lan.ipv6.host_address',
    });
    expect(iot!.origins.hostAccess).toBe('macvlanctl.yaml:27:18 networks.iot.host_access');
    expectOriginsPointAtValues(text, lan!);
    expectOriginsPointAtValues(text, iot!);
  });

  it('feeds to-desired, whose errors then point into the file', () => {
    const [lan] = parseConfigFile('macvlanctl.yaml', text);
    const desired = toDesired(lan!);
    expect(desired.shimInterface).toBe('lan-shim');
    const bad = parseConfigFile('macvlanctl.yaml', yaml('networks:', '  lan:', '    parent: eno1', '    subnet: 198.51.100.0/33'));
    expect(() => toDesired(bad[0]!)).toThrow(/^macvlanctl\.yaml:4:13 networks\.lan\.subnet: /);
  });

  it('puts an IPv6 value given at the top level under ipv6', () => {
    const [net] = parseConfigFile('m.yaml', yaml('networks:', '  v6:', '    parent: eno1', '    subnet: 2001:db8:5::/64', '    gateway: 2001:db8:5::1', '    ip_range: auto'));
    expect(net!.ipv6).toEqual({ subnet: '2001:db8:5::/64', gateway: '2001:db8:5::1' });
    expect(net!.subnet).toBeUndefined();
    expect(net!.ipRange).toBe('auto');
    expect(net!.origins['ipv6.subnet']).toBe('m.yaml:4:13 networks.v6.subnet');
  });

  it("reads aux_addresses.host as the shim's address, in the value's family", () => {
    const [net] = parseConfigFile(
      'm.yaml',
      yaml('networks:', '  lan:', '    aux_addresses:', '      host: 198.51.100.223', '      dns: 198.51.100.53', '    ipv6:', '      subnet: 2001:db8::/64', '    host_access: {address: "2001:db8::fe"}'),
    );
    expect(net!.hostAddress).toBe('198.51.100.223');
    expect(net!.origins.hostAddress).toBe('m.yaml:4:13 networks.lan.aux_addresses.host');
    expect(net!.auxAddresses).toEqual({ dns: '198.51.100.53' });
    expect(net!.ipv6).toEqual({ subnet: '2001:db8::/64', hostAddress: '2001:db8::fe' });
    expect(net!.origins['ipv6.hostAddress']).toBe('m.yaml:8:28 networks.lan.host_access.address');
    expect(net!.hostAccess).toBe(true);
  });

  it('accepts a network without settings, x- keys, anchors and merge keys', () => {
    const text2 = yaml(
      'x-defaults: &defaults',
      '  parent: eno1',
      '  mode: bridge',
      'networks:',
      '  blank:',
      '  lan:',
      '    <<: *defaults',
      '    mode: private',
      '    x-note: ignored',
      '    subnet: 198.51.100.0/24',
    );
    const [blank, lan] = parseConfigFile('m.yaml', text2);
    expect(blank).toEqual({ name: 'blank', origins: { name: 'm.yaml:5:3 networks.blank' } });
    expect(lan!.parent).toBe('eno1');
    expect(lan!.mode).toBe('private'); // the map's own key wins over the merged one
    expect(lan!.origins.parent).toBe('m.yaml:2:11 networks.lan.parent');
    expect(lan!.origins.mode).toBe('m.yaml:8:11 networks.lan.mode');
  });

  it('reads quoted values and a byte order mark', () => {
    const [net] = parseConfigFile('m.yaml', `\uFEFF${yaml('networks:', '  "lan":', "    parent: 'eno1'", '    gateway: "198.51.100.1"')}`);
    expect(net).toMatchObject({ name: 'lan', parent: 'eno1', gateway: '198.51.100.1' });
    expect(net!.origins.gateway).toBe('m.yaml:4:14 networks.lan.gateway');
  });
});

describe('parseConfigFile: Docker Compose', () => {
  it('reads a Pi-hole compose file with a macvlan network and x-macvlanctl settings', () => {
    const text = fixture('pihole-compose.yaml');
    const nets = parseConfigFile('compose.yaml', text, { directory: '/srv/pihole' });
    expect(nets).toHaveLength(1);
    const { origins, ...values } = nets[0]!;
    expect(values).toEqual({
      compose: { project: 'pihole', key: 'lan', external: false, driverOpts: { parent: 'eno1' }, labels: {} },
      staticAddresses: [{ service: 'pihole', address: '198.51.100.200' }],
      name: 'pihole_lan',
      parent: 'eno1',
      subnet: '198.51.100.0/24',
      gateway: '198.51.100.1',
      ipRange: '198.51.100.192/28',
      hostAddress: '198.51.100.206',
      hostAccess: true,
      shimInterface: 'pihole-shim',
      avoid: ['198.51.100.100-198.51.100.190'],
      persist: 'auto',
    });
    expect(origins).toMatchObject({
      name: 'compose.yaml:23:11 networks.lan.name',
      parent: 'compose.yaml:26:15 networks.lan.driver_opts.parent',
      subnet: 'compose.yaml:29:19 networks.lan.ipam.config[0].subnet',
      hostAddress: 'compose.yaml:33:19 networks.lan.ipam.config[0].aux_addresses.host',
      'avoid.0': 'compose.yaml:37:15 networks.lan.x-macvlanctl.avoid[0]',
    });
    expectOriginsPointAtValues(text, nets[0]!);
    expect(() => toDesired(nets[0]!)).not.toThrow();
  });

  it('resolves anchors and << merge keys, with origins at the anchored text', () => {
    const text = fixture('compose-anchors.yaml');
    const [front, back, ...rest] = parseConfigFile('compose.yaml', text, { directory: '/srv/Demo' });
    expect(rest).toEqual([]);
    expect(front).toMatchObject({ name: 'demo_front', parent: 'eno1', mode: 'bridge', subnet: '198.51.100.0/24', ipRange: '198.51.100.64/26', hostAccess: true, persist: 'none', avoid: ['198.51.100.10'] });
    expect(back).toMatchObject({ name: 'demo_back', parent: 'eno2', mode: 'bridge', subnet: '203.0.113.0/24', hostAccess: true, persist: 'none' });
    // Merged values point at the text inside the anchor; the path is the one through the merge.
    expect(front!.origins.parent).toBe('compose.yaml:5:13 networks.front.driver_opts.parent');
    expect(front!.origins.persist).toBe('compose.yaml:10:12 networks.front.x-macvlanctl.persist');
    expect(back!.origins.parent).toBe('compose.yaml:32:15 networks.back.driver_opts.parent');
    expect(back!.origins.mode).toBe('compose.yaml:6:19 networks.back.driver_opts.macvlan_mode');
    expect(back!.origins.name).toBe('compose.yaml:28:3 networks.back');
    expectOriginsPointAtValues(text, front!);
    expectOriginsPointAtValues(text, back!);
  });

  it('reads a dual-stack ipam config: IPv4 entry at the top level, IPv6 entry under ipv6', () => {
    const text = fixture('compose-dual-stack.yaml');
    const [net] = parseConfigFile('compose.yaml', text, { directory: '/srv/x' });
    const { origins, ...values } = net!;
    expect(values).toEqual({
      compose: {
        project: 'x',
        key: 'lan6',
        external: false,
        driverOpts: { parent: 'eno1', macvlan_mode: 'bridge', 'com.docker.network.driver.mtu': '1500' },
        labels: { 'com.example.role': 'lan' },
        enableIpv6: true,
      },
      name: 'x_lan6',
      parent: 'eno1',
      mode: 'bridge',
      subnet: '198.51.100.0/24',
      gateway: '198.51.100.1',
      ipRange: '198.51.100.128/25',
      hostAddress: '198.51.100.254',
      auxAddresses: { nas: '198.51.100.20' },
      ipv6: { subnet: '2001:db8:1::/64', gateway: '2001:db8:1::1', ipRange: '2001:db8:1::/80', hostAddress: '2001:db8:1::fffe' },
      hostAccess: true,
    });
    expect(origins['ipv6.subnet']).toBe('compose.yaml:25:19 networks.lan6.ipam.config[1].subnet');
    expect(origins['ipv6.hostAddress']).toBe('compose.yaml:29:19 networks.lan6.ipam.config[1].aux_addresses.host');
    expectOriginsPointAtValues(text, net!);
    const desired = toDesired(net!);
    expect(desired.ipv6?.hostAddress).not.toBe('auto');
  });

  it('takes the IPv6 entry first as well, and x-macvlanctl ip_range: auto when ipam has none', () => {
    const [net] = parseConfigFile(
      'compose.yaml',
      yaml(
        'networks:',
        '  lan:',
        '    driver: macvlan',
        '    driver_opts: {parent: eno1}',
        '    ipam:',
        '      config:',
        '        - subnet: 2001:db8:7::/64',
        '        - subnet: 198.51.100.0/24',
        '    x-macvlanctl:',
        '      ip_range: auto/27',
      ),
    );
    expect(net).toMatchObject({ subnet: '198.51.100.0/24', ipRange: 'auto/27', ipv6: { subnet: '2001:db8:7::/64' } });
    expect(net!.origins.ipRange).toBe('compose.yaml:10:17 networks.lan.x-macvlanctl.ip_range');
  });

  it('reads several macvlan networks, skipping the others', () => {
    const nets = parseConfigFile(
      'compose.yaml',
      yaml('networks:', '  a:', '    driver: macvlan', '  b:', '    driver: bridge', '  c:', '    driver: macvlan', '    external: false'),
      { directory: '/home/me/My Proj' },
    );
    expect(nets.map((n) => n.name)).toEqual(['myproj_a', 'myproj_c']);
  });
});

describe('parseConfigFile: errors', () => {
  it('reports a YAML syntax error with line:col and the reason (CONFIG_SYNTAX)', () => {
    const e = failure(yaml('networks:', '  lan:', '    avoid: [198.51.100.1, 198.51.100.2', '    parent: eno1'));
    expect(e.code).toBe('CONFIG_SYNTAX');
    expect(e.message).toMatch(/^macvlanctl\.yaml:\d+:\d+: YAML syntax error: .*(flow sequence|\])/i);
    expect(problems(e)[0]!.path).toBe('');
  });

  it('reports a nested mapping on one line as a syntax error', () => {
    const e = failure(yaml('networks:', '  lan: parent: eno1'));
    expect(e.code).toBe('CONFIG_SYNTAX');
    expect(e.message).toBe('macvlanctl.yaml:2:8: YAML syntax error: Nested mappings are not allowed in compact mappings');
  });

  it('reports tabs, duplicate keys and a second document as syntax errors', () => {
    expect(failure('networks:\n\tlan: {}\n').code).toBe('CONFIG_SYNTAX');
    const dup = failure(yaml('networks:', '  lan:', '    parent: eno1', '    parent: eno2'));
    expect(dup.code).toBe('CONFIG_SYNTAX');
    expect(dup.message).toMatch(/^macvlanctl\.yaml:4:5: YAML syntax error: this key appears twice/);
    const docs = failure(yaml('networks:', '  lan: {}', '---', 'networks: {}'));
    expect(docs.message).toMatch(/^macvlanctl\.yaml:3:1: YAML syntax error: the file holds more than one YAML document/);
  });

  it('still reports a syntax error in the ignored parts of a Compose file', () => {
    const e = failure(yaml('services:', '  web:', '    image: "nginx', 'networks:', '  lan:', '    driver: macvlan'), 'compose.yaml');
    expect(e.code).toBe('CONFIG_SYNTAX');
    expect(e.message).toBe('compose.yaml:3:12: YAML syntax error: the quote opened here is never closed (Missing closing "quote)');
  });

  it('reports an empty file and a file of comments only', () => {
    for (const text of ['', '\n\n', '# nothing here\n']) {
      const e = failure(text);
      expect(e.code).toBe('CONFIG_INVALID');
      expect(e.message).toMatch(/^macvlanctl\.yaml:1:1: the file is empty; declare the networks in it, for example/);
    }
  });

  it('reports a top level that is not a map', () => {
    expect(failure(yaml('- lan', '- wan')).message).toMatch(/^macvlanctl\.yaml:1:1: the top level of the file must be a map with a networks: key, but it is a list/);
    expect(failure('just text\n').message).toMatch(/but it is the text 'just text'/);
  });

  it('reports a missing networks key, suggesting it for a near miss', () => {
    const e = failure(yaml('network:', '  lan:', '    parent: eno1'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(problems(e)).toEqual([
      { place: 'macvlanctl.yaml:1:1', path: 'network', message: "unknown key 'network'; did you mean 'networks'?" },
      { place: 'macvlanctl.yaml:1:1', path: '', message: expect.stringMatching(/^there is no 'networks:' key/) },
    ]);
    expect(e.message).toMatch(/^macvlanctl\.yaml: 2 problems:\n {2}macvlanctl\.yaml:1:1 network: unknown key 'network'; did you mean 'networks'\?\n {2}macvlanctl\.yaml:1:1: there is no 'networks:' key/);
  });

  it('reports an empty networks map', () => {
    for (const text of [yaml('networks: {}'), yaml('networks:')]) {
      const e = failure(text);
      expect(e.message).toMatch(/^macvlanctl\.yaml:1:\d+ networks: no network is declared; add one under networks:/);
    }
  });

  it('suggests the nearest valid key for unknown keys, ignoring case, _ and -', () => {
    const e = failure(
      yaml('networks:', '  lan:', '    iprange: auto', '    IP-Range2: x', '    gatway: 198.51.100.1', '    aux_address: {}', '    macvlan_mode: bridge', '    ipv6:', '      sbnet: 2001:db8::/64', '    host_access:', '      iface: lan-shim'),
    );
    expect(problems(e).map((p) => `${p.place} ${p.path}: ${p.message}`)).toEqual([
      "macvlanctl.yaml:3:5 networks.lan.iprange: unknown key 'iprange'; did you mean 'ip_range'?",
      "macvlanctl.yaml:4:5 networks.lan.IP-Range2: unknown key 'IP-Range2'; did you mean 'ip_range'?",
      "macvlanctl.yaml:5:5 networks.lan.gatway: unknown key 'gatway'; did you mean 'gateway'?",
      "macvlanctl.yaml:6:5 networks.lan.aux_address: unknown key 'aux_address'; did you mean 'aux_addresses'?",
      "macvlanctl.yaml:7:5 networks.lan.macvlan_mode: unknown key 'macvlan_mode'; did you mean 'mode'?",
      "macvlanctl.yaml:9:7 networks.lan.ipv6.sbnet: unknown key 'sbnet'; did you mean 'subnet'?",
      "macvlanctl.yaml:11:7 networks.lan.host_access.iface: unknown key 'iface'; did you mean 'interface'?",
    ]);
  });

  it('lists the allowed keys when nothing is close', () => {
    const e = failure(yaml('networks:', '  lan:', '    colour: blue'));
    expect(e.message).toBe(
      "macvlanctl.yaml:3:5 networks.lan.colour: unknown key 'colour'; the keys allowed here are parent, subnet, gateway, ip_range, host_address, avoid, aux_addresses, mode, host_access, persist, ipv6, swarm",
    );
  });

  it('rejects wrong YAML types, naming expected and got', () => {
    const e = failure(fixture('bad-many.yaml'), 'bad.yaml');
    expect(e.code).toBe('CONFIG_INVALID');
    expect(problems(e).map((p) => `${p.place} ${p.path}`)).toEqual([
      'bad.yaml:4:13 networks.lan.subnet',
      'bad.yaml:5:5 networks.lan.gatway',
      'bad.yaml:6:5 networks.lan.iprange',
      'bad.yaml:7:12 networks.lan.avoid',
      'bad.yaml:9:7 networks.lan.aux_addresses',
      'bad.yaml:10:18 networks.lan.host_access',
    ]);
    const lines = e.message.split('\n');
    expect(lines[0]).toBe('bad.yaml: 6 problems:');
    expect(lines[1]).toBe('  bad.yaml:4:13 networks.lan.subnet: expected text (a CIDR such as 192.168.1.0/24), got the number 24');
    expect(lines[4]).toBe("  bad.yaml:7:12 networks.lan.avoid: expected a list (addresses, ranges (A-B) or CIDRs), got the text '198.51.100.10'; write it as a list: [198.51.100.10]");
    expect(lines[5]).toBe(
      '  bad.yaml:9:7 networks.lan.aux_addresses: expected a map (name: address entries), got a list; write it as a map (key: value lines), not as a list (- item lines)',
    );
    expect(lines[6]).toBe(
      "  bad.yaml:10:18 networks.lan.host_access: expected true, false, or a map with interface and address, got the text 'yes'; YAML 1.2 reads this as text: write true or false",
    );
  });

  it('rejects a map where a list is expected, list items of the wrong type, and empty values', () => {
    const e = failure(
      yaml('networks:', '  lan:', '    avoid:', '      first: 198.51.100.10', '    parent: 7', '    gateway:', '    mode: [bridge]', '    host_access: {interface: 5}', '  wan:', '    avoid: [198.51.100.1, [1, 2]]'),
    );
    expect(problems(e).map((p) => `${p.place} ${p.path}: ${p.message}`)).toEqual([
      'macvlanctl.yaml:4:7 networks.lan.avoid: expected a list (addresses, ranges (A-B) or CIDRs), got a map; write it as a list (- item lines), not as a map',
      "macvlanctl.yaml:5:13 networks.lan.parent: expected text (an interface name such as eth0), got the number 7; put it in quotes if it is meant as text ('7')",
      'macvlanctl.yaml:6:5 networks.lan.gateway: expected text (an address such as 192.168.1.1), got an empty value; give a value or remove the key',
      'macvlanctl.yaml:7:11 networks.lan.mode: expected text (bridge, private, vepa, passthru), got a list',
      "macvlanctl.yaml:8:30 networks.lan.host_access.interface: expected text (the shim interface name, such as lan-shim), got the number 5; put it in quotes if it is meant as text ('5')",
      'macvlanctl.yaml:10:27 networks.wan.avoid[1]: expected text (an address, a range A-B or a CIDR), got a list',
    ]);
  });

  it('rejects a network, networks or ipv6 given as a list or text', () => {
    const e = failure(yaml('networks:', '  lan:', '    - parent: eno1', '  wan:', '    ipv6: 2001:db8::/64'));
    expect(problems(e).map((p) => `${p.place} ${p.path}: ${p.message}`)).toEqual([
      'macvlanctl.yaml:3:5 networks.lan: expected a map (settings such as parent and subnet), got a list; write it as a map (key: value lines), not as a list (- item lines)',
      "macvlanctl.yaml:5:11 networks.wan.ipv6: expected a map (subnet, gateway, ip_range and host_address), got the text '2001:db8::/64'",
    ]);
    expect(failure(yaml('networks:', '  - lan')).message).toMatch(/^macvlanctl\.yaml:2:3 networks: expected a map \(network names, each with its settings\), got a list/);
  });

  it('rejects network names Docker would not accept, saying the rule', () => {
    const long = 'n'.repeat(65);
    const e = failure(yaml('networks:', '  "my lan":', '    parent: eno1', '  -lan: {}', `  ${long}: {}`));
    const ps = problems(e);
    expect(ps.map((p) => `${p.place} ${p.path}`)).toEqual(['macvlanctl.yaml:2:3 networks["my lan"]', 'macvlanctl.yaml:4:3 networks["-lan"]', `macvlanctl.yaml:5:3 networks.${long}`]);
    expect(ps[0]!.message).toMatch(/^network name 'my lan' is not valid: it must start with a letter or digit.*\^\[a-zA-Z0-9\]\[a-zA-Z0-9_\.-\]\*\$/);
    expect(ps[2]!.message).toMatch(/it is 65 characters long; at most 64 are allowed/);
  });

  it("rejects the shim's address given twice, naming both places", () => {
    const e = failure(yaml('networks:', '  lan:', '    host_address: 198.51.100.223', '    aux_addresses:', '      host: 198.51.100.224'));
    expect(e.message).toBe(
      "macvlanctl.yaml:5:13 networks.lan.aux_addresses.host: the shim's IPv4 address (host_address, host_access.address or aux address host) is given twice: here and at macvlanctl.yaml:3:19 networks.lan.host_address; keep one",
    );
    const e2 = failure(yaml('networks:', '  lan:', '    host_access: {address: 198.51.100.2}', '    host_address: auto'));
    expect(e2.message).toMatch(/^macvlanctl\.yaml:4:19 networks\.lan\.host_address: the shim's IPv4 address .* given twice: here and at macvlanctl\.yaml:3:28 networks\.lan\.host_access\.address/);
  });

  it('rejects an IPv6 subnet given both at the top level and under ipv6', () => {
    const e = failure(yaml('networks:', '  lan:', '    subnet: 2001:db8::/64', '    ipv6:', '      subnet: 2001:db8:1::/64'));
    expect(e.message).toBe(
      'macvlanctl.yaml:5:15 networks.lan.ipv6.subnet: the IPv6 subnet is given twice: here and at macvlanctl.yaml:3:13 networks.lan.subnet; keep one',
    );
  });

  it('reports an alias without an anchor and a bad merge source', () => {
    const e = failure(yaml('x-p: &p eno1', 'networks:', '  lan:', '    parent: *nope', '  wan:', '    <<: *p'));
    expect(problems(e).map((p) => `${p.place} ${p.path}: ${p.message}`)).toEqual([
      'macvlanctl.yaml:4:13 networks.lan.parent: alias *nope refers to no anchor; define &nope on a value before it is used',
      'macvlanctl.yaml:6:5 networks.wan: a << merge key takes a map or an alias of one (<<: *name), or a list of those',
    ]);
  });

  it('rejects a list or map used as a key', () => {
    const e = failure(yaml('networks:', '  ? [a, b]', '  : {parent: eno1}'));
    expect(e.message).toBe('macvlanctl.yaml:2:5 networks: a key must be plain text, not a list, a map or an alias');
  });

  it('reports a Compose file without a macvlan network, listing the networks found', () => {
    const e = failure(fixture('compose-bridge-only.yaml'), 'compose.yaml');
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(
      /^compose\.yaml:5:3 networks: no network with driver: macvlan in compose\.yaml; networks found: front \(bridge\), mesh \(overlay\), shared \(external\), plain \(default driver\)\. /,
    );
    expect(failure(yaml('services:', '  web: {image: nginx}'), 'compose.yaml').message).toMatch(
      /^compose\.yaml:1:1 networks: no network with driver: macvlan in compose\.yaml; networks found: none/,
    );
  });

  it('reports unknown Compose keys in a macvlan network, with suggestions', () => {
    const e = failure(
      yaml(
        'networks:',
        '  lan:',
        '    driver: macvlan',
        '    driver_opts:',
        '      parnet: eno1',
        '      com.docker.network.driver.mtu: 1500',
        '    ipam:',
        '      config:',
        '        - subnet: 198.51.100.0/24',
        '          iprange: 198.51.100.0/26',
        '    drivr_opts: {}',
        '    x-macvlanctrl:',
        '      persist: none',
        '    x-macvlanctl:',
        '      host-acess: true',
      ),
      'compose.yaml',
    );
    expect(problems(e).map((p) => `${p.place} ${p.path}: ${p.message}`)).toEqual([
      "compose.yaml:5:7 networks.lan.driver_opts.parnet: unknown key 'parnet'; did you mean 'parent'?",
      "compose.yaml:10:11 networks.lan.ipam.config[0].iprange: unknown key 'iprange'; did you mean 'ip_range'?",
      "compose.yaml:11:5 networks.lan.drivr_opts: unknown key 'drivr_opts'; did you mean 'driver_opts'?",
      "compose.yaml:12:5 networks.lan.x-macvlanctrl: unknown key 'x-macvlanctrl'; did you mean 'x-macvlanctl'? (other x- keys are ignored)",
      "compose.yaml:15:7 networks.lan.x-macvlanctl.host-acess: unknown key 'host-acess'; did you mean 'host_access'?",
    ]);
  });

  it('rejects two ipam entries of one family and a value set both by Compose and x-macvlanctl', () => {
    const e = failure(
      yaml(
        'networks:',
        '  lan:',
        '    driver: macvlan',
        '    driver_opts: {parent: eno1, macvlan_mode: bridge}',
        '    ipam:',
        '      config:',
        '        - subnet: 198.51.100.0/24',
        '          ip_range: 198.51.100.0/26',
        '        - subnet: 203.0.113.0/24',
        '    x-macvlanctl:',
        '      ip_range: auto',
        '      mode: private',
      ),
      'compose.yaml',
    );
    expect(problems(e).map((p) => `${p.place} ${p.path}: ${p.message}`)).toEqual([
      'compose.yaml:9:11 networks.lan.ipam.config[1]: a second IPv4 entry in ipam.config (the first is at compose.yaml:7:11 networks.lan.ipam.config[0]); macvlanctl handles one subnet per address family: remove one',
      'compose.yaml:11:17 networks.lan.x-macvlanctl.ip_range: the IPv4 ip_range is given twice: here and at compose.yaml:8:21 networks.lan.ipam.config[0].ip_range; keep one',
      'compose.yaml:12:13 networks.lan.x-macvlanctl.mode: the macvlan mode is given twice: here and at compose.yaml:4:47 networks.lan.driver_opts.macvlan_mode; keep one',
    ]);
  });

  it('expands Compose variables, and refuses one with neither value nor default at its place', () => {
    const e = failure(yaml('networks:', '  lan:', '    driver: macvlan', '    driver_opts:', '      parent: ${LAN_IF:-eth0}', '    ipam:', '      config:', '        - subnet: $SUBNET'), 'compose.yaml');
    expect(problems(e).map((p) => `${p.place} ${p.path}`)).toEqual(['compose.yaml:8:19 networks.lan.ipam.config[0].subnet']);
    expect(problems(e)[0]!.message).toMatch(/^'\$SUBNET': variable SUBNET is not set and has no default; set it in the environment or in the \.env file/);
  });

  it('rejects a Compose network name that is invalid or used twice', () => {
    const e = failure(
      yaml('networks:', '  a:', '    driver: macvlan', '    name: shared', '  b:', '    driver: macvlan', '    name: shared', '  c:', '    driver: macvlan', '    name: "bad name!"'),
      'compose.yaml',
    );
    expect(problems(e).map((p) => `${p.place} ${p.path}`)).toEqual(['compose.yaml:7:11 networks.b.name', 'compose.yaml:10:11 networks.c.name']);
    expect(problems(e)[0]!.message).toMatch(/^network name 'shared' is used twice: here and at /);
    expect(problems(e)[1]!.message).toMatch(/^network name 'bad name!' is not valid: it must start with a letter or digit/);
    expect(problems(e)[0]!.message).toContain('compose.yaml:4:11 networks.a.name');
  });

  it('rejects wrong types in a Compose macvlan network', () => {
    const e = failure(
      yaml('networks:', '  lan:', '    driver: macvlan', '    driver_opts: [parent=eno1]', '    ipam:', '      config:', '        subnet: 198.51.100.0/24'),
      'compose.yaml',
    );
    expect(problems(e).map((p) => `${p.place} ${p.path}: ${p.message}`)).toEqual([
      'compose.yaml:4:18 networks.lan.driver_opts: expected a map (parent and macvlan_mode), got a list; write it as a map (key: value lines), not as a list (- item lines)',
      'compose.yaml:7:9 networks.lan.ipam.config: expected a list (entries with subnet, gateway, ip_range and aux_addresses), got a map; write it as a list (- item lines), not as a map',
    ]);
  });

  it('collects every problem into one error with details.problems', () => {
    const e = failure(fixture('bad-many.yaml'), 'bad.yaml');
    expect(e.details.file).toBe('bad.yaml');
    expect(problems(e)).toHaveLength(6);
    for (const p of problems(e)) {
      expect(Object.keys(p).sort()).toEqual(['message', 'path', 'place']);
      expect(p.place).toMatch(/^bad\.yaml:\d+:\d+$/);
    }
    expect(e.exitCode).toBe(2);
  });
});

describe('readConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'macvlanctl-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads and parses a file, using its path in the origins', async () => {
    const path = join(dir, 'macvlanctl.yaml');
    writeFileSync(path, fixture('macvlanctl.yaml'));
    const nets = await readConfigFile(path);
    expect(nets.map((n) => n.name)).toEqual(['lan', 'iot']);
    expect(nets[0]!.origins.subnet).toBe(`${path}:5:13 networks.lan.subnet`);
  });

  it('turns a missing file into a clear CONFIG_INVALID error', async () => {
    const path = join(dir, 'missing.yaml');
    await expect(readConfigFile(path)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: `cannot read ${path}: there is no such file; check the path given with -f`,
      details: { file: path, errno: 'ENOENT' },
    });
  });

  it('turns a directory into a clear CONFIG_INVALID error', async () => {
    await expect(readConfigFile(dir)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/it is a directory/) });
  });
});

describe('parseConfigFile: robustness', () => {
  it('rejects an aux name used in both the IPv4 and the IPv6 ipam entry, saying why', () => {
    const e = failure(
      yaml(
        'networks:',
        '  lan:',
        '    driver: macvlan',
        '    ipam:',
        '      config:',
        '        - subnet: 198.51.100.0/24',
        '          aux_addresses: {router: 198.51.100.2}',
        '        - subnet: 2001:db8::/64',
        '          aux_addresses: {router: "2001:db8::2"}',
      ),
      'compose.yaml',
    );
    expect(e.message).toBe(
      "compose.yaml:9:35 networks.lan.ipam.config[1].aux_addresses.router: aux address 'router' is given twice: here and at compose.yaml:7:35 networks.lan.ipam.config[0].aux_addresses.router; aux address names must be unique within a network, also across its IPv4 and IPv6 entries: rename or remove one",
    );
  });

  it('throws only MacvlanError with placed problems, whatever the text', () => {
    const pieces = ['networks:', '\n', '  ', 'lan:', ' ', '- ', 'driver: macvlan', 'services:', '&a ', '*a', '<<: ', '{', '}', '[', ']', '"', "'", ':', '#', '\t', 'ipam:', 'config:', 'subnet: 10.0.0.0/8', '---', '? ', '!!str ', '${X}'];
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 4 })), { maxLength: 40 }), (parts) => {
        try {
          const nets = parseConfigFile('f.yaml', parts.join(''));
          for (const n of nets) for (const origin of Object.values(n.origins)) expect(origin).toMatch(/^f\.yaml:\d+:\d+ networks/);
        } catch (e) {
          expect(e).toBeInstanceOf(MacvlanError);
          const ps = problems(e as MacvlanError);
          expect(ps.length).toBeGreaterThan(0);
          for (const p of ps) expect(p.place).toMatch(/^f\.yaml:\d+:\d+$/);
        }
      }),
      { numRuns: 500 },
    );
  });
});
