// The swarm fleet view (#13) on JSON captured from a real 3-node lab swarm (test/fixtures/docker/swarm,
// see the fixtures README): Engine JSON → facts (gather/swarm-facts), then the pure checks (plan/swarm-fleet).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { swarmFleetFromEngine, swarmSelfFromInfo } from '../../src/gather/swarm-facts.js';
import type { SwarmFleetFacts } from '../../src/model/swarm.js';
import { parseAddress, parseCidr } from '../../src/net/address.js';
import { assessFleet, avoidingConstraints } from '../../src/plan/swarm-fleet.js';
import { planSwarmSlices } from '../../src/plan/swarm-slices.js';
import type { EngineInfo, EngineNetworkVerbose, EngineService, EngineSwarmNode, EngineTask } from '../../src/system/docker/client.js';

const dir = join(import.meta.dirname, '../fixtures/docker/swarm');
const load = <T>(f: string): T => JSON.parse(readFileSync(join(dir, f), 'utf8')) as T;
const nodes = load<EngineSwarmNode[]>('nodes.json');
const services = load<EngineService[]>('services.json');
const verbose = load<EngineNetworkVerbose>('network-lan-verbose-manager.json');

/** v: null = the manager has no such network */
const fleet = (tasksFile = 'tasks-12.json', v: EngineNetworkVerbose | null = verbose): SwarmFleetFacts =>
  swarmFleetFromEngine('lan', { nodes, tasks: load<EngineTask[]>(tasksFile), services, verbose: v ?? undefined });
const slices = (...names: (string | null)[]) =>
  planSwarmSlices({
    network: 'lan',
    range: parseCidr('198.51.100.192/26'),
    subnet: parseCidr('198.51.100.0/24'),
    gateway: parseAddress('198.51.100.1'),
    nodes: names.map((n) => (n === null ? null : { name: n })),
  });
const kinds = (v: ReturnType<typeof assessFleet>) => v.findings.map((f) => `${f.severity} ${f.kind} ${f.nodes.join(',')}`);

describe('swarm facts from the engine', () => {
  it('says which engine this is from /info, not the OS hostname', () => {
    expect(swarmSelfFromInfo(load<EngineInfo>('info-manager.json'))).toEqual({ name: 'h1', nodeId: nodes.find((n) => n.Description?.Hostname === 'h1')!.ID, manager: true, state: 'active' });
    expect(swarmSelfFromInfo(load<EngineInfo>('info-worker.json'))).toMatchObject({ name: 'h2', manager: false, state: 'active' });
    expect(swarmSelfFromInfo({ Name: 'solo', Swarm: { NodeID: '', LocalNodeState: 'inactive' } })).toEqual({ name: 'solo', nodeId: '', manager: false, state: 'inactive' });
  });

  it('takes every task address from the network endpoints (the tasks themselves carry none for macvlan)', () => {
    const f = fleet();
    expect(f.networkExists).toBe(true);
    expect(f.configFrom).toBe('lan-cfg');
    expect(f.nodes.map((n) => `${n.hostname} ${n.role} ${n.state}`)).toEqual(['h3 worker ready', 'h1 manager ready', 'h2 worker ready']);
    expect(f.tasks).toHaveLength(18);
    const running = f.tasks.filter((t) => t.state === 'running');
    expect(running).toHaveLength(12);
    expect(running.every((t) => t.address !== undefined && t.serviceName === 'web')).toBe(true);
    expect(f.tasks.filter((t) => t.state === 'rejected').every((t) => t.address === undefined && /lan-cfg/.test(t.error ?? ''))).toBe(true);
  });
});

describe('services on the swarm network (what destroy on a manager refuses for)', () => {
  it('finds the service by the network id its task template names', async () => {
    const { servicesOnNetwork } = await import('../../src/gather/swarm-facts.js');
    expect(servicesOnNetwork(services, verbose.Id, 'lan')).toEqual([{ id: services[0]!.ID, name: 'web' }]);
    expect(servicesOnNetwork(services, 'another-id', 'other')).toEqual([]);
  });
});

describe('assessFleet', () => {
  it('the lab swarm as applied: three nodes, their slices, 12 tasks inside them; the early failures on h3 are past', () => {
    const v = assessFleet(fleet(), slices('h1', 'h2', 'h3'));
    expect(v.nodes.map((n) => `${n.node} ${n.role} ${n.slice} shim ${n.shim}: ${n.tasks.map((t) => t.address).join(' ')}`)).toEqual([
      'h1 manager 198.51.100.192/28 shim 198.51.100.207: 198.51.100.192 198.51.100.194 198.51.100.193 198.51.100.195',
      'h2 worker 198.51.100.208/28 shim 198.51.100.223: 198.51.100.209 198.51.100.210 198.51.100.208 198.51.100.211',
      'h3 worker 198.51.100.224/28 shim 198.51.100.239: 198.51.100.225 198.51.100.227 198.51.100.226 198.51.100.224',
    ]);
    expect(v.nodes.flatMap((n) => n.tasks).every((t) => t.inSlice === true)).toBe(true);
    expect(kinds(v)).toEqual(['warn missing-config-network h3']);
    expect(v.findings[0]!.message).toMatch(/^6 tasks failed on h3 for a missing config-only network lan-cfg \(last 2026-12-06T04:09:21\.\d+Z\); tasks run there since$/);
  });

  it('a node that left and joined again (its old entry down, same hostname): its past failures stay past', () => {
    const f = fleet();
    const h3 = f.nodes.find((n) => n.hostname === 'h3')!;
    const withStale = { ...f, nodes: [{ ...h3, id: 'stale-h3', state: 'down' }, ...f.nodes] };
    expect(kinds(assessFleet(withStale, slices('h1', 'h2', 'h3')))).toEqual(['warn missing-config-network h3']);
  });

  it('before h3 had its config-only network: its failures are current', () => {
    const v = assessFleet(fleet('tasks-missing-config.json', null), slices('h1', 'h2', 'h3'));
    expect(v.networkExists).toBe(false);
    // no endpoint list to read: the 6 running tasks' addresses are unchecked, and said so
    expect(kinds(v)).toEqual(['warn task-address-unseen h1,h2', 'fail missing-config-network h3']);
    expect(v.findings[0]!.tasks).toHaveLength(6);
    expect(v.findings[1]!.fix).toBe('run apply -f on h3');
  });

  it('flags tasks outside their node slice when the file and the nodes disagree', () => {
    const v = assessFleet(fleet(), slices('h2', 'h1', 'h3'));
    expect(kinds(v)).toEqual(['fail task-outside-slice h2', 'fail task-outside-slice h1', 'warn missing-config-network h3']);
    expect(v.findings[0]!.addresses.sort()).toEqual(['198.51.100.208', '198.51.100.209', '198.51.100.210', '198.51.100.211']);
  });

  it('flags a swarm node with no slice, with the placement constraint that avoids it', () => {
    const two = assessFleet(fleet(), slices('h1', 'h2'));
    const f = two.findings.find((x) => x.kind === 'node-without-slice')!;
    expect(f.nodes).toEqual(['h3']);
    expect(f.constraints).toEqual(['node.hostname!=h3']);
    expect(f.fix).toContain(`--constraint 'node.hostname!=h3'`);
    expect(two.nodes.find((n) => n.node === 'h3')!.slice).toBeUndefined();
    expect(two.findings.find((x) => x.kind === 'missing-config-network')!.fix).toBe('add h3 to networks.lan.swarm.nodes and run apply -f on h3');
    const one = assessFleet(fleet(), slices('h1'));
    expect(one.findings.find((x) => x.kind === 'node-without-slice')!.constraints).toEqual(['node.hostname==h1']);
    expect(avoidingConstraints(['a', 'b'], ['c', 'd'])).toEqual(['node.hostname!=a', 'node.hostname!=b']);
  });

  it('a running task whose address the manager does not see is said, not passed as in its slice', async () => {
    const f = fleet();
    const h2 = nodes.find((n) => n.Description?.Hostname === 'h2')!.ID;
    const t = f.tasks.find((x) => x.state === 'running' && x.nodeId === h2)!;
    delete t.address;
    const v = assessFleet(f, slices('h1', 'h2', 'h3'));
    const found = v.findings.filter((x) => x.kind === 'task-address-unseen');
    expect(found.map((x) => `${x.severity} ${x.nodes.join(',')} ${x.tasks.join(',')}`)).toEqual([`warn h2 ${t.id}`]);
    expect(found[0]!.message).toMatch(/^1 running task of lan has no address .*: web\.\d+ on h2$/);
    const { presentFleet } = await import('../../src/present/swarm-fleet.js');
    expect(presentFleet(v)).not.toContain('every task in its node');
  });

  it('a drained node with no slice is a warning, not a failure: no task is placed there', () => {
    const drained = (hostnames: string[]) => ({
      ...fleet(),
      nodes: fleet().nodes.map((n) => (hostnames.includes(n.hostname) ? { ...n, availability: 'drain' } : n)),
    });
    const v = assessFleet(drained(['h3']), slices('h1', 'h2'));
    const found = v.findings.filter((x) => x.kind === 'node-without-slice');
    expect(found.map((f) => `${f.severity} ${f.nodes.join(',')}`)).toEqual(['warn h3']);
    expect(found[0]!.message).toContain('drained');
    // a drained node is said apart from an active one, which still fails
    const both = assessFleet(drained(['h3']), slices('h1'));
    expect(both.findings.filter((x) => x.kind === 'node-without-slice').map((f) => `${f.severity} ${f.nodes.join(',')}`)).toEqual(['fail h2', 'warn h3']);
    expect(both.findings.find((x) => x.kind === 'node-without-slice' && x.severity === 'fail')!.constraints).toEqual(['node.hostname==h1']);
  });

  it('flags duplicate addresses across nodes', () => {
    const f = fleet();
    const running = f.tasks.filter((t) => t.state === 'running');
    const h1 = nodes.find((n) => n.Description?.Hostname === 'h1')!.ID;
    const h2 = nodes.find((n) => n.Description?.Hostname === 'h2')!.ID;
    // what identical ranges on two nodes give: both engines hand out the range's first address
    const a = running.find((t) => t.nodeId === h1)!;
    const b = running.find((t) => t.nodeId === h2)!;
    b.address = a.address;
    const v = assessFleet(f, slices('h1', 'h2', 'h3'));
    const dup = v.findings.find((x) => x.kind === 'duplicate-address')!;
    expect(dup.nodes.sort()).toEqual(['h1', 'h2']);
    expect(dup.tasks.sort()).toEqual([a.id, b.id].sort());
    expect(dup.message).toMatch(/^198\.51\.100\.\d+ is held by 2 tasks \(web\.\d+, web\.\d+\) on h\d, h\d$/);
  });

  it('every kind at once, in one order: outside a slice, duplicates, unseen, nodes without a slice, listed names not in the swarm, missing config-only networks', () => {
    const f = fleet();
    const running = f.tasks.filter((t) => t.state === 'running');
    const h1 = nodes.find((n) => n.Description?.Hostname === 'h1')!.ID;
    const h2 = nodes.find((n) => n.Description?.Hostname === 'h2')!.ID;
    running.find((t) => t.nodeId === h2)!.address = running.find((t) => t.nodeId === h1)!.address;
    delete running.filter((t) => t.nodeId === h1)[1]!.address;
    // h1 and h2 swapped, h3 left out, h4 not in the swarm
    const v = assessFleet(f, slices('h2', 'h1', 'h4'));
    expect(kinds(v)).toEqual([
      // nodes in the file's order
      'fail task-outside-slice h2',
      'fail task-outside-slice h1',
      'fail duplicate-address h2,h1',
      'warn task-address-unseen h1',
      'fail node-without-slice h3',
      'warn listed-not-in-swarm h4',
      'warn missing-config-network h3',
    ]);
  });

  it('flags a listed name that no swarm node has', () => {
    const v = assessFleet(fleet(), slices('h1', 'h2', 'h3', 'h4'));
    expect(kinds(v)).toContain('warn listed-not-in-swarm h4');
    expect(v.unplacedSlices).toEqual([{ node: 'h4', slice: '198.51.100.240/28' }]);
  });
});

describe('fleet view output', () => {
  it('status lists every node with its slice and tasks, and says when all is well', async () => {
    const { presentFleet } = await import('../../src/present/swarm-fleet.js');
    // Compared without colour: CI forces colour on (FORCE_COLOR), and picocolors then bolds the name.
    const text = stripVTControlCharacters(presentFleet(assessFleet(fleet(), slices('h1', 'h2', 'h3'))));
    expect(text).toContain('swarm fleet of lan: ip_range 198.51.100.192/26 in /28 slices');
    expect(text).toMatch(/h1 +manager +slice 198\.51\.100\.192\/28 shim 198\.51\.100\.207 +4 tasks/);
    expect(text).toMatch(/h3 +worker +slice 198\.51\.100\.224\/28 shim 198\.51\.100\.239 +4 tasks/);
    expect(text).toContain('web.3  198.51.100.192');
    expect(text).toContain('6 tasks failed on h3 for a missing config-only network lan-cfg');
    const bad = stripVTControlCharacters(presentFleet(assessFleet(fleet(), slices('h1', 'h2'))));
    expect(bad).toMatch(/h3 +worker +no slice/);
    expect(bad).toContain(`--constraint 'node.hostname!=h3'`);
  });

  it('doctor: one check per kind, failing where a finding fails', async () => {
    const { fleetChecks } = await import('../../src/doctor/checks/swarm-fleet.js');
    const ok = fleetChecks(assessFleet(fleet(), slices('h1', 'h2', 'h3')));
    expect(ok.map((c) => `${c.id} ${c.verdict}`)).toEqual([
      'swarm-task-outside-slice pass',
      'swarm-duplicate-address pass',
      'swarm-task-address-unseen pass',
      'swarm-node-without-slice pass',
      'swarm-listed-not-in-swarm pass',
      'swarm-missing-config-network warn',
    ]);
    const bad = fleetChecks(assessFleet(fleet(), slices('h2', 'h1')));
    expect(bad.filter((c) => c.verdict === 'fail').map((c) => c.id)).toEqual(['swarm-task-outside-slice', 'swarm-node-without-slice']);
  });
});
