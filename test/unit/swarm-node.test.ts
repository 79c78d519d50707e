// This node's part of a swarm network (#13): which node (from the engine's /info), its slice, its shim at
// the top of the slice routing the slice only, its parent; the config-only network seen in the place of
// the network; the swarm network made by a manager only. Errors: exit 2, before anything changes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { networkFactFromEngine } from '../../src/gather/docker-facts.js';
import type { EngineNetwork } from '../../src/system/docker/client.js';
import { flagsToRaw, type NetworkFlags } from '../../src/config/flags.js';
import { toDesired } from '../../src/config/to-desired.js';
import type { DesiredNetwork } from '../../src/model/desired.js';
import { MacvlanError } from '../../src/model/errors.js';
import type { DockerNetworkFact, HostFacts } from '../../src/model/facts.js';
import type { SwarmSelf } from '../../src/model/swarm.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { configOnlyName, nodeDockerView, swarmNodePlanInput } from '../../src/plan/swarm-node.js';
import { decideSwarmNetwork } from '../../src/plan/swarm-network.js';
import { docker, hostFacts, noDocker } from '../support/fixture-facts.js';
import { refusalOf } from '../support/refusal.js';

const FLAGS: NetworkFlags = { parent: 'eno1', subnet: ['198.51.100.0/24'], gateway: ['198.51.100.1'], ipRange: ['198.51.100.192/26'] };
const self = (name: string, manager = false): SwarmSelf => ({ name, nodeId: `id-${name}`, manager, state: 'active' });

function swarmNet(over: Partial<DesiredNetwork['swarm']> = {}, flags: NetworkFlags = FLAGS): DesiredNetwork {
  return { ...toDesired(flagsToRaw('lan', flags)), swarm: { nodes: [{ name: 'h1' }, { name: 'h2' }, { name: 'h3' }], attachable: false, ...over } };
}
function factsOn(me: SwarmSelf | undefined, networks: DockerNetworkFact[] = []): HostFacts {
  const d = docker(networks);
  return hostFacts('fresh-host', { docker: me && d.available ? { ...d, swarm: me } : d });
}
/** the swarm network as a manager's engine lists it (captured in the lab, attachable) */
const engineSwarmNetwork: EngineNetwork = {
  ...(JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/docker/swarm/network-lan-verbose-manager.json'), 'utf8')) as EngineNetwork),
  ConfigFrom: { Network: 'lan-config' }, // the fixture's hand-made swarm used lan-cfg
};

function net(over: Partial<DockerNetworkFact> & { name: string }): DockerNetworkFact {
  return { id: `id-${over.name}`, driver: 'macvlan', scope: 'local', labels: {}, options: {}, subnets: [], enableIPv6: false, containers: [], configOnly: false, ...over };
}
const refusal = refusalOf;

describe('automatic slices that are all taken', () => {
  const codes = (d: DesiredNetwork, me = 'h1') => computePlan([d], factsOn(self(me))).warnings.map((w) => w.code);
  it('warn that one more node would move every slice, and name the size to write down', () => {
    // 3 nodes in a /26: four /28s, one free: no warning
    expect(codes(swarmNet())).not.toContain('SWARM_SLICES_FULL');
    // 4 nodes (or 3 and an empty slot) fill the four /28s
    const four = swarmNet({ nodes: [{ name: 'h1' }, { name: 'h2' }, { name: 'h3' }, { name: 'h4' }] });
    expect(codes(four)).toContain('SWARM_SLICES_FULL');
    expect(codes(swarmNet({ nodes: [{ name: 'h1' }, null, { name: 'h3' }, { name: 'h4' }] }))).toContain('SWARM_SLICES_FULL');
    const w = computePlan([four], factsOn(self('h2'))).warnings.find((x) => x.code === 'SWARM_SLICES_FULL')!;
    expect(w.message).toContain('the 4 slices of /28 in 198.51.100.192/26 are all taken');
    expect(w.fix).toMatch(/^write slice: \/29 now \(room for 8 nodes/);
    // a size written down is the user's: the list growing past it is an error then, not a surprise
    expect(codes({ ...four, swarm: { ...four.swarm!, slicePrefix: 28 } })).not.toContain('SWARM_SLICES_FULL');
  });
});

describe("a node's part", () => {
  it('h2 gets the second /28, its shim at .223 routing that /28 only, named after the swarm network', () => {
    const input = swarmNodePlanInput(swarmNet(), factsOn(self('h2')));
    expect(input.part).toMatchObject({ network: 'lan', node: 'h2', manager: false, configOnly: 'lan-config' });
    const plan = computePlan([swarmNet()], factsOn(self('h2')));
    const n = plan.networks[0]!;
    expect(n.ipRange).toBe('198.51.100.208/28');
    expect(n.auxAddresses).toEqual({ host: '198.51.100.223' });
    expect(n.shim).toMatchObject({ interface: 'lan-shim', address: '198.51.100.223', routes: ['198.51.100.208/28'] });
    const docker = plan.changes.filter((c) => c.kind === 'docker-network');
    // a worker: its config-only network only; the swarm network is a manager's (a note says so)
    expect(docker.map((c) => `${c.action} ${c.kind === 'docker-network' && c.after?.Name} ${c.kind === 'docker-network' && c.after?.ConfigOnly}`)).toEqual(['create lan-config true']);
    expect(plan.unchecked.join('\n')).toContain('the swarm network lan comes from a manager');
    expect(n.swarm).toMatchObject({ node: 'h2', manager: false, configOnly: 'lan-config', range: '198.51.100.192/26', slicePrefix: 28 });
  });

  it('a node of its own parent', () => {
    const input = swarmNodePlanInput(swarmNet({ nodes: [{ name: 'h1' }, { name: 'h2', parent: 'eno1' }, { name: 'h3', parent: 'enp9s0' }] }), factsOn(self('h3')));
    expect(input.desired.parent).toBe('enp9s0');
    expect(input.desired.origins.parent).toContain("node h3's parent");
  });

  it('which node comes from the engine: a node not listed, a node not in a swarm, an engine out of reach', () => {
    const notListed = refusal(() => swarmNodePlanInput(swarmNet(), factsOn(self('h4'))));
    expect(notListed.code).toBe('CONFIG_INVALID');
    expect(notListed.exitCode).toBe(2);
    expect(notListed.message).toContain('this node is h4 (as its Docker engine names itself), which is not listed (h1, h2, h3)');
    const inactive = refusal(() => swarmNodePlanInput(swarmNet(), factsOn({ name: 'h1', nodeId: '', manager: false, state: 'inactive' })));
    expect(inactive.code).toBe('CONFIG_INVALID');
    expect(inactive.message).toContain('is not an active swarm node (state inactive)');
    const down = refusal(() => swarmNodePlanInput(swarmNet(), hostFacts('fresh-host', { docker: noDocker() })));
    expect(down.code).toBe('DOCKER_UNAVAILABLE');
  });

  it('the fleet range must be written out, IPv4 only, with no host address of its own', () => {
    expect(refusal(() => swarmNodePlanInput(swarmNet({}, { ...FLAGS, ipRange: ['auto/26'] }), factsOn(self('h1')))).message).toContain("needs the fleet's whole ip_range written out");
    expect(refusal(() => swarmNodePlanInput(swarmNet({}, { ...FLAGS, hostAddress: ['198.51.100.200'] }), factsOn(self('h1')))).message).toContain('top of its own slice');
    const slice = refusal(() => swarmNodePlanInput(swarmNet({ slicePrefix: 32 }), factsOn(self('h1'))));
    expect(slice.code).toBe('CONFIG_INVALID');
    expect(slice.message).toContain('usable address');
  });

  it('sees its config-only network in the place of the network, and not the swarm network: applied twice is a no-op', () => {
    const fresh = computePlan([swarmNet()], factsOn(self('h1', true)));
    const planned = fresh.networks[0]!;
    // a manager: its config-only network, then the swarm network made from it
    expect(fresh.changes.filter((c) => c.kind === 'docker-network').map((c) => c.kind === 'docker-network' && `${c.action} ${c.after?.Name} ${c.after?.Scope ?? 'local'} ${c.after?.ConfigFrom?.Network ?? '-'}`)).toEqual([
      'create lan-config local -',
      'create lan swarm lan-config',
    ]);
    const cfg = net({
      name: configOnlyName('lan'),
      driver: 'null',
      configOnly: true,
      labels: planned.labels,
      options: { parent: 'eno1' },
      subnets: [{ subnet: { family: 4, base: 0xc6336400n, prefix: 24 }, gateway: { family: 4, value: 0xc6336401n }, ipRange: { family: 4, base: 0xc63364c0n, prefix: 28 }, auxAddresses: { host: { family: 4, value: 0xc63364cfn } }, raw: {} }],
    });
    const swarmNetwork = net({ name: 'lan', scope: 'swarm', configFrom: 'lan-config', parent: 'eno1' });
    expect(nodeDockerView([cfg, swarmNetwork], 'lan').map((n) => `${n.name} ${n.driver} ${n.parent}`)).toEqual(['lan macvlan eno1']);
    const again = computePlan([swarmNet()], factsOn(self('h1', true), [cfg, swarmNetwork]));
    expect(again.changes.filter((c) => c.kind === 'docker-network').map((c) => c.action)).toEqual(['noop', 'noop']);
  });
});

describe('the swarm network', () => {
  const part = (manager: boolean) => swarmNodePlanInput(swarmNet({ attachable: true }), factsOn(self(manager ? 'h1' : 'h2', manager))).part;

  it('a manager creates it from its config-only network, attachable when asked; a worker leaves it to a manager', () => {
    expect(decideSwarmNetwork(part(true), [])).toEqual({
      action: 'create',
      body: { Name: 'lan', Driver: 'macvlan', Scope: 'swarm', ConfigFrom: { Network: 'lan-config' }, Attachable: true, CheckDuplicate: true },
    });
    const w = decideSwarmNetwork(part(false), []);
    expect(w.action).toBe('from-manager');
    expect(w.action === 'from-manager' && w.note).toContain('the swarm network lan comes from a manager');
  });

  it('is there already but not attachable as the file asks: a warning (Docker cannot change it in place), never a silent noop', () => {
    const d = decideSwarmNetwork(part(true), [net({ name: 'lan', scope: 'swarm', configFrom: 'lan-config' })]);
    expect(d.action).toBe('noop');
    expect(d.action === 'noop' && d.warning).toMatch(/exists but is not attachable, and the file asks attachable: true/);
    // the plan carries it, and the engine's Attachable reaches the facts
    const swarmNetwork = networkFactFromEngine({ ...engineSwarmNetwork, Attachable: false });
    expect(swarmNetwork.attachable).toBeUndefined();
    const plan = computePlan([swarmNet({ attachable: true })], factsOn(self('h1', true), [swarmNetwork]));
    expect(plan.warnings.map((w) => w.code)).toContain('SWARM_NETWORK_ATTACHABLE');
    expect(networkFactFromEngine(engineSwarmNetwork).attachable).toBe(true);
    expect(computePlan([swarmNet({ attachable: true })], factsOn(self('h1', true), [networkFactFromEngine(engineSwarmNetwork)])).warnings.map((w) => w.code)).not.toContain('SWARM_NETWORK_ATTACHABLE');
  });

  it('is there already: nothing to do; a stranger by its name is refused', () => {
    expect(decideSwarmNetwork(part(true), [net({ name: 'lan', scope: 'swarm', configFrom: 'lan-config', attachable: true })])).toEqual({ action: 'noop', id: 'id-lan' });
    const e = refusal(() => decideSwarmNetwork(part(true), [net({ name: 'lan', scope: 'local' })]));
    expect(e.code).toBe('DOCKER_CONFLICT');
    expect(e.message).toContain('already exists (a local macvlan network), not the swarm network from lan-config');
  });
});

describe('the recorded swarm part', () => {
  it('round-trips through JSON to the same slice plan', async () => {
    const { plannedSwarm, slicePlanOf } = await import('../../src/plan/swarm-record.js');
    const input = swarmNodePlanInput(swarmNet({ nodes: [{ name: 'h1' }, null, { name: 'h3', parent: 'enp9s0' }] }), factsOn(self('h3')));
    const recorded = JSON.parse(JSON.stringify(plannedSwarm(input.part)));
    expect(recorded).toMatchObject({ node: 'h3', manager: false, configOnly: 'lan-config', range: '198.51.100.192/26', slicePrefix: 28 });
    expect(recorded.slices).toEqual([
      { node: 'h1', index: 0, slice: '198.51.100.192/28', shim: '198.51.100.207' },
      { node: 'h3', index: 2, slice: '198.51.100.224/28', shim: '198.51.100.239', parent: 'enp9s0' },
    ]);
    expect(slicePlanOf('lan', recorded)).toEqual(input.part.slices);
  });
});

describe('destroy on a swarm node', () => {
  async function applied(manager: boolean) {
    const me = self(manager ? 'h1' : 'h2', manager);
    const plan = computePlan([swarmNet()], factsOn(me));
    const n = plan.networks[0]!;
    const cfgBody = plan.changes.find((c) => c.kind === 'docker-network' && c.after?.ConfigOnly)!;
    const cfg = net({ name: 'lan-config', driver: 'null', configOnly: true, labels: n.labels, options: { parent: 'eno1' }, id: 'cfg-id' });
    const swarmNetwork = net({ name: 'lan', scope: 'swarm', configFrom: 'lan-config', id: 'swarm-id' });
    return { me, n, cfgBody, networks: manager ? [cfg, swarmNetwork] : [cfg] };
  }

  it('a worker removes its config-only network (and says the swarm network is a manager\'s)', async () => {
    const { planSwarmDestroy, isSwarmPart } = await import('../../src/plan/swarm-plan.js');
    const { me, n, networks } = await applied(false);
    const facts = factsOn(me, networks);
    expect(isSwarmPart('lan', facts, { network: n })).toBe(true);
    expect(isSwarmPart('lan', factsOn(me), {})).toBe(false);
    const plan = planSwarmDestroy('lan', facts, { network: n }, {}, undefined);
    const docker = plan.changes.filter((c) => c.kind === 'docker-network');
    expect(docker.map((c) => c.kind === 'docker-network' && `${c.action} ${c.before?.id} ${c.before?.body.Name} ${c.before?.body.ConfigOnly}`)).toEqual(['delete cfg-id lan-config true']);
    expect(plan.unchecked.join('\n')).toContain("the swarm network lan is a manager's to remove");
    expect(plan.errors).toBeUndefined();
    // while a task of the swarm network runs here, its config-only network cannot go: refused first
    const busy = factsOn(me, [...networks, net({ name: 'lan', scope: 'swarm', configFrom: 'lan-config', containers: [{ id: 'c1', name: 'web.1.abc' }] })]);
    expect(planSwarmDestroy('lan', busy, { network: n }, {}, undefined).errors?.[0]?.message).toContain('1 task of the swarm network lan runs on this node (web.1.abc)');
  });

  it('a manager removes the swarm network first, and refuses while services use it', async () => {
    const { planSwarmDestroy } = await import('../../src/plan/swarm-plan.js');
    const { planOperations } = await import('../../src/apply/operations.js');
    const { me, n, networks } = await applied(true);
    const facts = factsOn(me, networks);
    const plan = planSwarmDestroy('lan', facts, { network: n }, {}, []);
    expect(plan.changes.filter((c) => c.kind === 'docker-network').map((c) => c.kind === 'docker-network' && `${c.action} ${c.before?.id}`)).toEqual(['delete swarm-id', 'delete cfg-id']);
    const titles = planOperations(plan).map((o) => o.title);
    expect(titles.indexOf('remove swarm network lan')).toBeLessThan(titles.indexOf('remove config-only Docker network lan-config'));
    const used = planSwarmDestroy('lan', facts, { network: n }, { force: true }, [{ id: 's1', name: 'web' }]);
    expect(used.errors?.map((e) => `${e.code} ${e.message}`)).toEqual([
      'DOCKER_CONFLICT the swarm network lan is used by service web: remove it first (docker service rm web), or take lan out of it (docker service update --network-rm lan SERVICE); --force does not remove services',
    ]);
  });
});

describe('slices that moved', () => {
  it('are refused on the node whose config-only network holds the old slice, saying why and what to do', () => {
    const me = self('h2');
    const planned = computePlan([swarmNet()], factsOn(me)).networks[0]!;
    const cfg = net({
      name: 'lan-config',
      driver: 'null',
      configOnly: true,
      labels: planned.labels,
      options: { parent: 'eno1' },
      subnets: [{ subnet: { family: 4, base: 0xc6336400n, prefix: 24 }, gateway: { family: 4, value: 0xc6336401n }, ipRange: { family: 4, base: 0xc63364d0n, prefix: 28 }, auxAddresses: { host: { family: 4, value: 0xc63364dfn } }, raw: { Subnet: '198.51.100.0/24', Gateway: '198.51.100.1', IPRange: '198.51.100.208/28', AuxiliaryAddresses: { host: '198.51.100.223' } } }],
    });
    expect(computePlan([swarmNet()], factsOn(me, [cfg])).errors).toBeUndefined();
    // five nodes do not fit /28s of a /26: every slice halves, h2's moves
    const grown = computePlan([swarmNet({ nodes: ['h1', 'h2', 'h3', 'h4', 'h5'].map((name) => ({ name })) })], factsOn(me, [cfg]));
    expect(grown.errors?.map((e) => e.code)).toEqual(['DOCKER_CONFLICT']);
    expect(grown.errors?.[0]?.message).toContain("lan-config, node h2's part of the swarm network lan, holds other settings than the file gives it (ip-range 198.51.100.208/28 ≠ 198.51.100.200/29");
    expect(grown.errors?.[0]?.message).toContain('put the list back or fix slice: /N');
    // appended within the capacity: nothing moves
    expect(computePlan([swarmNet({ nodes: ['h1', 'h2', 'h3', 'h4'].map((name) => ({ name })) })], factsOn(me, [cfg])).errors).toBeUndefined();
  });
});
