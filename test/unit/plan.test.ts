import { describe, expect, it } from 'vitest';
import { flagsToRaw, type NetworkFlags } from '../../src/config/flags.js';
import { toDesired } from '../../src/config/to-desired.js';
import { MacvlanError } from '../../src/model/errors.js';
import type { DockerNetworkFact, HostFacts } from '../../src/model/facts.js';
import { parseAddress, parseCidr } from '../../src/net/address.js';
import { commandLines } from '../../src/present/commands.js';
import { presentPlan } from '../../src/present/plan.js';
import { planOperations } from '../../src/apply/operations.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { hostSideChanges } from '../../src/plan/plan-network.js';
import { defaultShimName, deriveShimMac } from '../../src/plan/shim-identity.js';
import { docker, hostFacts, ipFacts, liveHosts, noDocker } from '../support/fixture-facts.js';
import { refusalOf } from '../support/refusal.js';

function plan(name: string, flags: NetworkFlags, facts: HostFacts = hostFacts()) {
  return computePlan([toDesired(flagsToRaw(name, flags))], facts);
}

function planError(name: string, flags: NetworkFlags, facts: HostFacts = hostFacts()): MacvlanError {
  return refusalOf(() => plan(name, flags, facts));
}

const RECIPE: NetworkFlags = { parent: 'eno1', ipRange: ['198.51.100.192/27'], auxAddress: ['host=198.51.100.223'] };

function macvlanNet(over: Partial<DockerNetworkFact> & { name: string }): DockerNetworkFact {
  return {
    id: `id-${over.name}`,
    driver: 'macvlan',
    scope: 'local',
    parent: 'eno1',
    labels: {},
    options: { parent: 'eno1' },
    subnets: [],
    enableIPv6: false,
    containers: [],
    configOnly: false,
    ...over,
  };
}

/** `plan --show-commands`: the lines printed from apply's own operations. */
const showCommands = (p: Parameters<typeof planOperations>[0]) => commandLines(planOperations(p));

describe('the recipe (DESIGN.md)', () => {
  it('gives the five changes of the manual recipe on a fresh host', () => {
    const p = plan('mynet', RECIPE);
    expect(p.changes.map((c) => [c.kind, c.action])).toEqual([
      ['docker-network', 'create'],
      ['shim-link', 'create'],
      ['shim-address', 'create'],
      ['shim-up', 'update'],
      ['shim-route', 'create'],
    ]);
    const n = p.networks[0]!;
    expect(n).toMatchObject({
      name: 'mynet',
      parent: 'eno1',
      subnet: '198.51.100.0/24',
      gateway: '198.51.100.1',
      ipRange: '198.51.100.192/27',
      auxAddresses: { host: '198.51.100.223' },
      shim: { interface: 'mynet-shim', address: '198.51.100.223', routes: ['198.51.100.192/27'] },
    });
  });

  it('prints the recipe as manual commands', () => {
    const lines = showCommands(plan('mynet', RECIPE));
    expect(lines[0]).toBe(
      'docker network create -d macvlan -o parent=eno1 --subnet 198.51.100.0/24 --gateway 198.51.100.1 --ip-range 198.51.100.192/27 --aux-address host=198.51.100.223 --label io.macvlanctl.managed=true --label io.macvlanctl.shim=mynet-shim --label io.macvlanctl.host-address=198.51.100.223 --label io.macvlanctl.shim-mac=' +
        deriveShimMac('test-host-id', '02:00:c6:33:64:18', 'mynet') +
        ' mynet',
    );
    expect(lines.slice(1)).toEqual([
      `ip link add mynet-shim link eno1 address ${deriveShimMac('test-host-id', '02:00:c6:33:64:18', 'mynet')} type macvlan mode bridge`,
      'ip link set dev mynet-shim alias macvlanctl:mynet',
      'ip addr add 198.51.100.223/32 dev mynet-shim',
      // the sysctls apply sets show too (issue #11: they were missing from --show-commands)
      'sysctl -w net.ipv4.conf.mynet-shim.arp_notify=1',
      'sysctl -w net.ipv6.conf.mynet-shim.disable_ipv6=1',
      'ip link set dev mynet-shim up',
      'ip route add 198.51.100.192/27 dev mynet-shim',
      "# record mynet as applied (macvlanctl's state under /var/lib/macvlanctl)",
    ]);
  });

  it('is all no-ops once applied (the lab-host fixture has the shim, address and route)', () => {
    const facts = hostFacts('lab-host', {
      docker: docker([
        macvlanNet({
          name: 'mynet',
          labels: { 'io.macvlanctl.managed': 'true' },
          subnets: [
            {
              subnet: parseCidr('198.51.100.0/24'),
              gateway: parseAddress('198.51.100.1'),
              ipRange: parseCidr('198.51.100.192/27'),
              auxAddresses: { host: parseAddress('198.51.100.223') },
              raw: {},
            },
          ],
        }),
      ]),
    });
    // The fixture's shim MAC is whatever the kernel chose; the alias marks it as ours, so the MAC is re-derived → update.
    const p = plan('mynet', RECIPE, facts);
    const byKind = Object.fromEntries(p.changes.map((c) => [c.kind, c.action]));
    expect(byKind['docker-network']).toBe('noop');
    expect(byKind['shim-link']).toBe('replace');
    const p2 = plan('mynet', RECIPE, { ...facts, hostId: 'x', interfaces: facts.interfaces.map((i) => (i.name === 'mynet-shim' ? { ...i, mac: deriveShimMac('x', '02:00:c6:33:64:18', 'mynet') } : i)) });
    expect(p2.changes.every((c) => c.action === 'noop')).toBe(true);
  });
});

describe('defaults from the host', () => {
  it('fills subnet, gateway, a /27 ip-range and the host address from --parent alone', () => {
    const p = plan('lan', { parent: 'eno1', avoid: ['198.51.100.2-198.51.100.190'] });
    const n = p.networks[0]!;
    expect(n.subnet).toBe('198.51.100.0/24');
    expect(n.gateway).toBe('198.51.100.1');
    // .224/27 holds the broadcast address, so the highest free /27 is .192/27
    expect(n.ipRange).toBe('198.51.100.192/27');
    expect(n.ipRangeSource).toBe('auto');
    expect(n.shim?.address).toBe('198.51.100.223');
  });

  it('infers the parent from the IPv4 default route when none is given', () => {
    const p = plan('lan', {});
    expect(p.networks[0]!.parent).toBe('eno1');
    expect(p.unchecked.join('\n')).toMatch(/default route goes through eno1/);
  });

  it('auto/N carves a block of that size', () => {
    expect(plan('lan', { parent: 'eno1', ipRange: ['auto/28'] }).networks[0]!.ipRange).toBe('198.51.100.224/28');
    expect(plan('lan', { parent: 'eno1', ipRange: ['auto/26'] }).networks[0]!.ipRange).toBe('198.51.100.128/26');
  });

  it('keeps the carved block clear of live hosts and avoided ranges', () => {
    const facts = hostFacts('fresh-host', liveHosts('198.51.100.200'));
    const n = plan('lan', { parent: 'eno1', avoid: ['198.51.100.160/27'] }, facts).networks[0]!;
    expect(n.ipRange).toBe('198.51.100.128/27');
  });

  it('keeps clear of other Docker macvlan ranges on the same parent (engine 26+ allows several)', () => {
    const other = macvlanNet({ name: 'other', subnets: [{ subnet: parseCidr('198.51.100.0/24'), ipRange: parseCidr('198.51.100.192/27'), auxAddresses: {}, raw: {} }] });
    const n = plan('lan', { parent: 'eno1' }, hostFacts('fresh-host', { docker: docker([other], '27.3.1') })).networks[0]!;
    expect(n.ipRange).toBe('198.51.100.160/27');
  });

  it('plans IPv6 the same way when an IPv6 subnet is given, below the last address of the /64 (Docker cannot hold it)', () => {
    const n = plan('lan', { parent: 'eno1', subnet: ['2001:db8:1::/64'], ipRange: ['198.51.100.192/27'] }).networks[0]!;
    expect(n.ipv6).toMatchObject({ subnet: '2001:db8:1::/64', gateway: '2001:db8:1::1', ipRange: '2001:db8:1:0:ffff:ffff:fffe:0/112' });
    expect(n.shim?.address6).toBe('2001:db8:1:0:ffff:ffff:fffe:ffff');
    expect(n.shim?.routes).toEqual(['198.51.100.192/27', '2001:db8:1:0:ffff:ffff:fffe:0/112']);
    expect(n.docker.enableIPv6).toBe(true);
  });

  it('with two networks in one plan, the second keeps clear of the first (engine 26+)', () => {
    const facts = hostFacts('fresh-host', { docker: docker([], '27.0.0') });
    const p = computePlan([toDesired(flagsToRaw('a', { parent: 'eno1' })), toDesired(flagsToRaw('b', { parent: 'eno1' }))], facts);
    expect(p.networks.map((n) => n.ipRange)).toEqual(['198.51.100.192/27', '198.51.100.160/27']);
  });
});

describe('host access', () => {
  it('--no-host-access plans no shim but still reserves its address in Docker, so host access can be added later', () => {
    const p = plan('mynet', { ...RECIPE, hostAccess: false });
    expect(p.changes.map((c) => c.kind)).toEqual(['docker-network']);
    expect(p.networks[0]!.shim).toBeUndefined();
    expect(p.networks[0]!.auxAddresses).toEqual({ host: '198.51.100.223' });
    const withShim = plan('mynet', RECIPE);
    expect(withShim.networks[0]!.docker.ipam).toEqual(p.networks[0]!.docker.ipam);
  });
});

describe('several networks in one declaration', () => {
  it('refuses two macvlan networks on one parent for engines before 26', () => {
    const desired = [toDesired(flagsToRaw('a', { parent: 'eno1' })), toDesired(flagsToRaw('b', { parent: 'eno1' }))];
    expect(() => computePlan(desired, hostFacts())).toThrow(/network b: Docker 20\.10\.24\+dfsg1 allows only one macvlan network per parent interface, and network a is declared on eno1 too/);
  });
});

describe('safety', () => {
  it('never routes the whole subnet through the shim', () => {
    const e = planError('lan', { parent: 'eno1', ipRange: ['198.51.100.0/24'] });
    expect(e.code).toBe('PLAN_UNSAFE');
    expect(e.message).toMatch(/whole subnet/);
  });

  it('refuses a route that already goes elsewhere', () => {
    const facts = ipFacts('fresh-host');
    facts.routes.push({ family: 4, destination: parseCidr('198.51.100.192/27'), device: 'eno1', gateway: parseAddress('198.51.100.5') });
    const e = planError('lan', RECIPE, { ...hostFacts(), ...facts });
    expect(e.code).toBe('PLAN_UNSAFE');
    expect(e.message).toMatch(/the route to 198\.51\.100\.192\/27 via eno1 \(gateway 198\.51\.100\.5\) already exists and is the ip-range/);
  });

  it('refuses host access in passthru mode: the shim would take the parent’s MAC and cut the host off its LAN', () => {
    const e = planError('lan', { ...RECIPE, mode: 'passthru' });
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/--mode: macvlan mode passthru cannot have host access: .*takes over eno1's MAC address.*cuts this host off its LAN/);
    expect(e.message).toMatch(/--no-host-access/);
    expect(e.message).toMatch(/--mode bridge/);
  });

  it('refuses host access in private mode: the kernel never passes frames between the shim and the containers', () => {
    const e = planError('lan', { ...RECIPE, mode: 'private' });
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/macvlan mode private cannot have host access: .*drops every frame between macvlan interfaces/);
  });

  it('accepts passthru and private without host access (no shim)', () => {
    for (const mode of ['passthru', 'private']) {
      const p = plan('lan', { ...RECIPE, mode, hostAccess: false });
      expect(p.networks[0]!.shim).toBeUndefined();
      expect(p.networks[0]!.docker.options.macvlan_mode).toBe(mode);
    }
  });

  it('names the Compose field when passthru comes from a file', () => {
    const raw = flagsToRaw('lan', { ...RECIPE });
    raw.mode = 'passthru';
    raw.origins.mode = 'compose.yaml:7:23 networks.lan.driver_opts.macvlan_mode';
    const e = refusalOf(() => computePlan([toDesired(raw)], hostFacts()));
    expect(e.message).toMatch(/compose\.yaml:7:23 networks\.lan\.driver_opts\.macvlan_mode: macvlan mode passthru cannot have host access/);
  });

  it('will not bring back a passthru shim from an old record (up)', () => {
    const n = plan('lan', RECIPE).networks[0]!;
    const e = refusalOf(() => hostSideChanges({ ...n, mode: 'passthru', shim: { ...n.shim!, mode: 'passthru' } }, hostFacts()));
    expect(e.code).toBe('PLAN_UNSAFE');
    expect(e.message).toMatch(/passthru/);
  });

  it('refuses a shim name taken by an interface that is not ours', () => {
    const e = planError('lan', { parent: 'eno1', ipRange: ['198.51.100.64/27'], shim: 'br-lan' }, hostFacts('lab-host'));
    expect(e.code).toBe('PLAN_UNSAFE');
    expect(e.message).toMatch(/br-lan already exists and is not a macvlanctl shim/);
  });

  it('explains Docker’s one-macvlan-per-parent rule on engines before 26', () => {
    const facts = hostFacts('fresh-host', { docker: docker([macvlanNet({ name: 'pihole' })]) });
    const e = planError('lan', RECIPE, facts);
    expect(e.code).toBe('DOCKER_CONFLICT');
    expect(e.message).toMatch(/only one macvlan network per parent.*'pihole' already uses eno1/);
  });

  it('plans a same-named Docker network with other settings as a replace, refused in the plan without --replace', () => {
    const existing = macvlanNet({ name: 'mynet', subnets: [{ subnet: parseCidr('198.51.100.0/24'), gateway: parseAddress('198.51.100.1'), auxAddresses: {}, raw: {} }] });
    const facts = hostFacts('fresh-host', { docker: docker([existing]) });
    const p = plan('mynet', RECIPE, facts);
    const ch = p.changes.find((c) => c.kind === 'docker-network')!;
    expect(ch.action).toBe('replace');
    expect(ch).toMatchObject({ differences: expect.arrayContaining(['ip-range (none) ≠ 198.51.100.192/27']) });
    expect(p.errors).toEqual([expect.objectContaining({ code: 'DOCKER_CONFLICT', message: expect.stringMatching(/pass --replace to replace it/) })]);
    expect(presentPlan(p)).toMatch(/-\/\+ docker network mynet/);
    expect(presentPlan(p)).toMatch(/1 to replace/);
    const replaced = computePlan([toDesired(flagsToRaw('mynet', RECIPE))], facts, { replace: true });
    expect(replaced.errors).toBeUndefined();
    expect(replaced.changes.find((c) => c.kind === 'docker-network')!.reason).toMatch(/removed and created again \(--replace\)/);
  });

  it('notes that Docker was not checked when it is unreachable', () => {
    const p = plan('mynet', RECIPE, hostFacts('fresh-host', { docker: noDocker() }));
    expect(p.unchecked.join('\n')).toMatch(/not reachable/);
    expect(p.changes[0]!.action).toBe('create');
  });

  it('keeps an applied auto range stable instead of carving a new one', () => {
    const existing = macvlanNet({
      name: 'lan',
      labels: { 'io.macvlanctl.managed': 'true' },
      subnets: [{ subnet: parseCidr('198.51.100.0/24'), gateway: parseAddress('198.51.100.1'), ipRange: parseCidr('198.51.100.96/27'), auxAddresses: {}, raw: {} }],
    });
    const n = plan('lan', { parent: 'eno1' }, hostFacts('fresh-host', { docker: docker([existing]) })).networks[0]!;
    expect(n.ipRange).toBe('198.51.100.96/27');
  });
});

describe('warnings', () => {
  it('warns about a wireless parent, suggesting ipvlan', () => {
    const facts = { ...hostFacts(), ...ipFacts('fresh-host', ['eno1']) };
    expect(plan('lan', RECIPE, facts).warnings.map((w) => w.code)).toContain('PARENT_WIRELESS');
  });

  it('warns about a parent that is down', () => {
    const e = plan('lan', { parent: 'down0', subnet: ['198.51.100.0/24'], gateway: ['198.51.100.1'] }, hostFacts('lab-host'));
    expect(e.warnings.find((w) => w.code === 'PARENT_DOWN')?.fix).toMatch(/ip link set down0 up/);
  });

  it('warns about a bridge port and names the bridge', () => {
    const p = plan('lan', { parent: 'brp0', subnet: ['198.51.100.0/24'], gateway: ['198.51.100.1'], ipRange: ['198.51.100.64/27'] }, hostFacts('lab-host'));
    expect(p.warnings.find((w) => w.code === 'PARENT_BRIDGE_PORT')?.fix).toBe('use the bridge as the parent: --parent br-lan');
  });

  it('warns that vepa mode reaches the containers only through a hairpin switch', () => {
    const w = plan('lan', { ...RECIPE, mode: 'vepa' }).warnings.find((x) => x.code === 'MODE_BLOCKS_HOST_ACCESS');
    expect(w?.message).toMatch(/hairpin/);
    expect(w?.fix).toMatch(/--mode bridge.*--no-host-access/);
    expect(plan('lan', RECIPE).warnings.map((x) => x.code)).not.toContain('MODE_BLOCKS_HOST_ACCESS');
    expect(plan('lan', { ...RECIPE, mode: 'vepa', hostAccess: false }).warnings.map((x) => x.code)).not.toContain('MODE_BLOCKS_HOST_ACCESS');
  });

  it('warns that the DHCP pool is unknown when carving without --avoid or a scan', () => {
    expect(plan('lan', { parent: 'eno1' }).warnings.map((w) => w.code)).toContain('DHCP_POOL_UNKNOWN');
  });
});

describe('shim identity', () => {
  it('uses NAME-shim when it fits 15 bytes, a deterministic short name otherwise', () => {
    expect(defaultShimName('mynet')).toBe('mynet-shim');
    const long = defaultShimName('homeassistant-lan');
    expect(long).toMatch(/^homeassis-[0-9a-f]{5}$/);
    expect(defaultShimName('homeassistant-lan')).toBe(long);
    expect(defaultShimName('homeassistant-iot')).not.toBe(long);
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(15);
  });

  it('derives a stable, locally administered unicast MAC', () => {
    const mac = deriveShimMac('host', '02:00:00:00:00:01', 'mynet');
    expect(mac).toBe(deriveShimMac('host', '02:00:00:00:00:01', 'mynet'));
    expect(mac).not.toBe(deriveShimMac('host', '02:00:00:00:00:02', 'mynet'));
    const first = parseInt(mac.slice(0, 2), 16);
    expect(first & 0x02).toBe(2);
    expect(first & 0x01).toBe(0);
  });
});
