/**
 * Compose's names and labels (src/config/compose-project.ts,
 * src/plan/compose-network.ts). Compose v2 is not installable here, so these
 * pin what its source says (rules quoted beside each test); Compose 1.29 is
 * exercised for real in test/e2e/compose.e2e.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { composeNetworkName, normalizeProjectName, resolveProjectName } from '../../src/config/compose-project.js';
import { parseDotEnv } from '../../src/config/compose-dotenv.js';
import { parseConfigFile } from '../../src/config/load-file.js';
import { toDesired } from '../../src/config/to-desired.js';
import type { DockerNetworkFact } from '../../src/model/facts.js';
import { parseAddress, parseCidr } from '../../src/net/address.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { docker, hostFacts } from '../support/fixture-facts.js';
import { refusalOf } from '../support/refusal.js';

const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

const COMPLETE = yaml(
  'services:',
  '  web:',
  '    image: busybox',
  '    networks: [lan]',
  'networks:',
  '  lan:',
  '    driver: macvlan',
  '    driver_opts:',
  '      parent: eno1',
  '    ipam:',
  '      config:',
  '        - subnet: 198.51.100.0/24',
  '          gateway: 198.51.100.1',
  '          ip_range: 198.51.100.192/27',
  '          aux_addresses:',
  '            host: 198.51.100.223',
);

function planFile(text: string, options = {}, facts = hostFacts()) {
  return computePlan(parseConfigFile('compose.yaml', text, { directory: '/srv/Home_Lab', ...options }).map(toDesired), facts);
}

describe('project name (compose-go NormalizeProjectName and its order)', () => {
  it('normalises like compose-go: lower case, only [a-z0-9_-], no leading _ or -', () => {
    expect(normalizeProjectName('Home_Lab')).toBe('home_lab');
    expect(normalizeProjectName('-_My Proj.2')).toBe('myproj2');
    expect(normalizeProjectName('Ünïcode')).toBe('ncode');
    expect(normalizeProjectName('...')).toBe('');
  });

  it('takes -p, then COMPOSE_PROJECT_NAME, then .env, then name:, then the directory', () => {
    const all = { flag: 'cli', env: 'envp', dotEnv: 'dotp', fileName: { value: 'FileName', origin: 'c:1:7 name' }, directory: '/srv/Home_Lab' };
    expect(resolveProjectName(all)).toMatchObject({ name: 'cli', source: '-p/--project-name' });
    const { flag: _f, ...noFlag } = all;
    expect(resolveProjectName(noFlag)).toMatchObject({ name: 'envp', source: 'COMPOSE_PROJECT_NAME' });
    const { env: _e, ...noEnv } = noFlag;
    expect(resolveProjectName(noEnv)).toMatchObject({ name: 'dotp', source: '.env COMPOSE_PROJECT_NAME' });
    const { dotEnv: _d, ...noDot } = noEnv;
    expect(resolveProjectName(noDot)).toMatchObject({ name: 'filename', source: 'name:' });
    expect(resolveProjectName({ directory: '/srv/Home_Lab' })).toMatchObject({ name: 'home_lab', source: 'directory' });
  });

  it('refuses a -p or COMPOSE_PROJECT_NAME that is not already valid (Compose refuses them too)', () => {
    for (const [inputs, origin] of [
      [{ flag: 'MyProj', directory: '/x' }, '-p/--project-name'],
      [{ env: '_lab', directory: '/x' }, 'COMPOSE_PROJECT_NAME'],
    ] as const) {
      const e = refusalOf(() => resolveProjectName(inputs));
      expect(e.code).toBe('CONFIG_INVALID');
      expect(e.message).toMatch(new RegExp(`^${origin}: project name '.*' is not valid`));
    }
  });

  it('refuses a directory name that normalises to nothing (exit 2), naming the way out', () => {
    const e = refusalOf(() => resolveProjectName({ directory: '/srv/...' }));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain('-p NAME');
  });

  it('names networks <project>_<key> unless name: is set', () => {
    expect(composeNetworkName('home_lab', 'lan', undefined)).toBe('home_lab_lan');
    expect(composeNetworkName('home_lab', 'lan', 'pihole_lan')).toBe('pihole_lan');
  });
});

describe('a Compose file read with its project', () => {
  it('names the network after the directory, -p, COMPOSE_PROJECT_NAME, .env or name:', () => {
    const name = (text: string, options = {}) => parseConfigFile('compose.yaml', text, { directory: '/srv/Home_Lab', ...options })[0]!.name;
    expect(name(COMPLETE)).toBe('home_lab_lan');
    expect(name(COMPLETE, { projectName: 'cli' })).toBe('cli_lan');
    expect(name(COMPLETE, { env: { COMPOSE_PROJECT_NAME: 'fromenv' } })).toBe('fromenv_lan');
    expect(name(COMPLETE, { dotEnv: { COMPOSE_PROJECT_NAME: 'fromdotenv' } })).toBe('fromdotenv_lan');
    expect(name(`name: My-Stack\n${COMPLETE}`)).toBe('my-stack_lan');
    expect(name(`name: My-Stack\n${COMPLETE}`, { projectName: 'cli' })).toBe('cli_lan');
  });

  it('refuses a top-level name: that normalises to nothing, at its place', () => {
    const e = refusalOf(() => parseConfigFile('compose.yaml', `name: '...'\n${COMPLETE}`, { directory: '/srv/x' }));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(/^compose\.yaml:1:7 name: the project name '\.\.\.' has no letter or digit left/);
  });

  it('refuses an unset Compose variable in the top-level name: and a network name: that is not a Docker name', () => {
    expect(refusalOf(() => parseConfigFile('compose.yaml', `name: \${STACK}\n${COMPLETE}`, { directory: '/srv/x' })).message).toMatch(
      /^compose\.yaml:1:7 name: '\$\{STACK\}': variable STACK is not set and has no default/,
    );
    expect(parseConfigFile('compose.yaml', `name: \${STACK}\n${COMPLETE}`, { directory: '/srv/x', env: { STACK: 'Media' } })[0]!.name).toBe('media_lan');
    const bad = COMPLETE.replace('    driver: macvlan', '    name: "bad name!"\n    driver: macvlan');
    expect(refusalOf(() => parseConfigFile('compose.yaml', bad, { directory: '/srv/x' })).message).toMatch(/networks\.lan\.name: network name 'bad name!' is not valid/);
  });
});

describe('labels and driver options Compose adopts (pkg/compose/create.go, compose/network.py)', () => {
  it('labels the network com.docker.compose.project/network, no config-hash, and keeps our own labels', () => {
    const n = planFile(COMPLETE).networks[0]!;
    expect(n.name).toBe('home_lab_lan');
    expect(n.labels).toMatchObject({ 'com.docker.compose.project': 'home_lab', 'com.docker.compose.network': 'lan', 'io.macvlanctl.managed': 'true' });
    expect(Object.keys(n.labels).filter((k) => k.includes('config-hash'))).toEqual([]);
  });

  it('gives the driver exactly the options the file states: no macvlan_mode it does not name', () => {
    expect(planFile(COMPLETE).networks[0]!.docker.options).toEqual({ parent: 'eno1' });
    const withMode = COMPLETE.replace('      parent: eno1', '      parent: eno1\n      macvlan_mode: bridge\n      com.docker.network.driver.mtu: 1500');
    expect(planFile(withMode).networks[0]!.docker.options).toEqual({ parent: 'eno1', macvlan_mode: 'bridge', 'com.docker.network.driver.mtu': '1500' });
  });

  it('adds the file’s own labels: as Compose does', () => {
    const labelled = COMPLETE.replace('    driver: macvlan', '    driver: macvlan\n    labels: [com.example.role=lan]');
    expect(planFile(labelled).networks[0]!.labels).toMatchObject({ 'com.example.role': 'lan', 'com.docker.compose.network': 'lan' });
  });

  it('is a no-op against the network Compose made from the same complete file (labels, options, IPAM equal)', () => {
    const facts = hostFacts('fresh-host', { docker: docker([composeMade('home_lab_lan', { 'com.docker.compose.project': 'home_lab', 'com.docker.compose.network': 'lan', 'com.docker.compose.version': '1.29.2' })]) });
    const p = planFile(COMPLETE, {}, facts);
    expect(p.changes.find((c) => c.kind === 'docker-network')).toMatchObject({ action: 'noop' });
  });

  it('a dual-stack network Compose re-created with IPv6 off (a file without enable_ipv6: true) is not adopted as the same', () => {
    // dockerd 20.10 keeps the IPv6 ipam entry of such a network but gives no container an IPv6 address.
    const dual = COMPLETE.replace('    driver: macvlan', '    driver: macvlan\n    enable_ipv6: true') + yaml('        - subnet: 2001:db8:1::/64', '          gateway: 2001:db8:1::1', '          ip_range: 2001:db8:1::1:0/112', '          aux_addresses:', '            host: 2001:db8:1::1:ffff');
    const made = composeMade('home_lab_lan', { 'com.docker.compose.project': 'home_lab', 'com.docker.compose.network': 'lan' });
    made.subnets.push({ subnet: parseCidr('2001:db8:1::/64'), gateway: parseAddress('2001:db8:1::1'), ipRange: parseCidr('2001:db8:1::1:0/112'), auxAddresses: { host: parseAddress('2001:db8:1::1:ffff') }, raw: {} });
    const off = planFile(dual, {}, hostFacts('fresh-host', { docker: docker([made]) })).changes.find((c) => c.kind === 'docker-network')!;
    expect(off.action).toBe('replace');
    expect(off.reason).toContain('IPv6 off ≠ on');
    made.enableIPv6 = true;
    expect(planFile(dual, {}, hostFacts('fresh-host', { docker: docker([made]) })).changes.find((c) => c.kind === 'docker-network')).toMatchObject({ action: 'noop' });
  });

  it('calls a same-named network with another project label different (Compose v2 would warn, down would not remove it)', () => {
    const facts = hostFacts('fresh-host', { docker: docker([composeMade('home_lab_lan', { 'com.docker.compose.project': 'other', 'com.docker.compose.network': 'lan' })]) });
    const change = planFile(COMPLETE, {}, facts).changes.find((c) => c.kind === 'docker-network')!;
    expect(change.action).toBe('replace');
    expect(change.reason).toContain('label com.docker.compose.project other ≠ home_lab');
  });
});

describe('external: true', () => {
  const external = (extra: string[]) =>
    yaml('services:', '  web: {image: busybox, networks: [lan]}', 'networks:', '  lan:', '    external: true', '    name: shared_lan', '    driver: macvlan', ...extra);

  it('without x-macvlanctl is listed as skipped, with the reason, and nothing is planned for it', () => {
    const p = planFile(external([]) + yaml('  other:', '    driver: macvlan', '    driver_opts: {parent: eno1}'));
    expect(p.networks.map((n) => n.name)).toEqual(['home_lab_other']);
    expect(p.warnings.find((w) => w.code === 'COMPOSE_NETWORK_SKIPPED')?.message).toMatch(/^Compose network lan \(shared_lan\) is skipped: it is external: true/);
  });

  it('with x-macvlanctl gets host access from the network as it exists, and is never created, replaced or relabelled', () => {
    const existing = composeMade('shared_lan', {});
    existing.options = { parent: 'eno1', macvlan_mode: 'bridge' };
    existing.subnets = [{ ...existing.subnets[0]!, ipRange: parseCidr('198.51.100.96/28'), auxAddresses: { host: parseAddress('198.51.100.90'), nas: parseAddress('198.51.100.91') } }];
    const facts = hostFacts('fresh-host', { docker: docker([existing]) });
    const p = planFile(external(['    ipam: {config: [{subnet: 203.0.113.0/24}]}', '    x-macvlanctl: {host_access: true}']), {}, facts);
    const docker0 = p.changes.filter((c) => c.kind === 'docker-network');
    expect(docker0).toEqual([expect.objectContaining({ action: 'noop', reason: expect.stringContaining('external: true') })]);
    const n = p.networks[0]!;
    expect(n).toMatchObject({ name: 'shared_lan', subnet: '198.51.100.0/24', ipRange: '198.51.100.96/28', shim: { address: '198.51.100.90', routes: ['198.51.100.96/28'] } });
    expect(n.auxAddresses).toEqual({ host: '198.51.100.90', nas: '198.51.100.91' });
    expect(n.labels).toEqual({});
    expect(n.docker.options).toEqual({ parent: 'eno1', macvlan_mode: 'bridge' });
    expect(p.changes.some((c) => c.kind === 'shim-link' && c.action === 'create')).toBe(true);
  });

  it('takes its settings from the top-level x-macvlanctl.networks.KEY too (Compose 1.29 allows nothing but external: on it)', () => {
    const text = yaml('networks:', '  byhand:', '    external: true', 'x-macvlanctl:', '  networks:', '    byhand: {host_access: {interface: byhand-shim}}');
    const [raw] = parseConfigFile('compose.yaml', text, { directory: '/srv/x' });
    expect(raw).toMatchObject({ name: 'byhand', shimInterface: 'byhand-shim', compose: { external: true } });
    expect(raw!.compose!.skipped).toBeUndefined();
    expect(raw!.origins.shimInterface).toBe('compose.yaml:6:39 x-macvlanctl.networks.byhand.host_access.interface');
  });

  it('is refused when Docker has no such network: it is never created', () => {
    const e = refusalOf(() => planFile(external(['    x-macvlanctl: {host_access: true}']), {}, hostFacts('fresh-host', { docker: docker([]) })));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain('external: true, but Docker has no network of that name');
  });
});

describe('.env', () => {
  it('reads KEY=VALUE lines as Compose does', () => {
    expect(
      parseDotEnv('.env', ['# comment', '', 'A=1', 'export B = two ', "C='x # y'", 'D="a\\"b"', 'E=plain # trailing', 'F='].join('\n')),
    ).toEqual({ A: '1', B: 'two', C: 'x # y', D: 'a"b', E: 'plain', F: '' });
  });

  it('refuses a line that is not KEY=VALUE, with its line', () => {
    expect(refusalOf(() => parseDotEnv('/p/.env', 'A=1\n1BAD=2\n')).message).toMatch(/^\/p\/\.env:2: '1BAD' is not a variable name/);
  });
});

/** A network as Compose 1.29 creates it from COMPLETE (docker network inspect, reduced to the facts we read). */
function composeMade(name: string, labels: Record<string, string>): DockerNetworkFact {
  return {
    id: `id-${name}`,
    name,
    driver: 'macvlan',
    scope: 'local',
    parent: 'eno1',
    labels,
    options: { parent: 'eno1' },
    subnets: [
      {
        subnet: parseCidr('198.51.100.0/24'),
        gateway: parseAddress('198.51.100.1'),
        ipRange: parseCidr('198.51.100.192/27'),
        auxAddresses: { host: parseAddress('198.51.100.223') },
        raw: {},
      },
    ],
    enableIPv6: false,
    containers: [],
    configOnly: false,
  };
}

describe('status: Compose project and service of each container', () => {
  it('are taken from the containers’ com.docker.compose.project/service labels', async () => {
    const { addComposeMembership } = await import('../../src/gather/docker-facts.js');
    const net = composeMade('home_lab_lan', {});
    net.containers = [
      { id: 'a1', name: 'home_lab_web_1' },
      { id: 'b2', name: 'by-hand' },
    ];
    addComposeMembership([net], [
      { Id: 'a1', Names: ['/home_lab_web_1'], Image: 'x', State: 'running', Status: 'Up', Labels: { 'com.docker.compose.project': 'home_lab', 'com.docker.compose.service': 'web' } },
      { Id: 'c3', Names: ['/other'], Image: 'x', State: 'running', Status: 'Up', Labels: { 'com.docker.compose.project': 'p', 'com.docker.compose.service': 's' } },
    ]);
    expect(net.containers).toEqual([
      { id: 'a1', name: 'home_lab_web_1', compose: { project: 'home_lab', service: 'web' } },
      { id: 'b2', name: 'by-hand' },
    ]);
  });
});
