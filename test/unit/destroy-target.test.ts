/**
 * destroy acts only on what is proven ours: the alias `macvlanctl:NAME` can be
 * set by anyone, so the shim must also have the MAC that apply's record (or a
 * Docker network labelled as ours) gives it.
 */
import { describe, expect, it } from 'vitest';
import { planOperations } from '../../src/apply/operations.js';
import { type Ports, runOperations } from '../../src/apply/run-operations.js';
import { commandLines } from '../../src/present/commands.js';
import { LEFT_ALONE, planDestroy } from '../../src/plan/plan-destroy.js';
import type { DockerNetworkFact, HostFacts } from '../../src/model/facts.js';
import { parseAddress, parseCidr } from '../../src/net/address.js';
import type { NetworkState } from '../../src/system/state-store.js';
import { docker, hostFacts } from '../support/fixture-facts.js';

const facts = (over: Partial<HostFacts> = {}): HostFacts => hostFacts('lab-host', { docker: docker([]), ...over });
const shimMac = (f: HostFacts) => f.interfaces.find((i) => i.name === 'mynet-shim')!.mac!;

function record(mac: string): NetworkState {
  return {
    schemaVersion: 1,
    name: 'mynet',
    appliedAt: '2026-01-01T00:00:00.000Z',
    macvlanctlVersion: 'test',
    network: { name: 'mynet', shim: { interface: 'mynet-shim', address: '198.51.100.223', mac, mode: 'bridge', routes: ['198.51.100.192/27'] } } as NetworkState['network'],
  };
}

function labelled(labels: Record<string, string>): DockerNetworkFact {
  return {
    id: 'net1',
    name: 'mynet',
    driver: 'macvlan',
    scope: 'local',
    parent: 'eno1',
    labels,
    options: { parent: 'eno1' },
    subnets: [{ subnet: parseCidr('198.51.100.0/24'), gateway: parseAddress('198.51.100.1'), auxAddresses: {}, raw: { Subnet: '198.51.100.0/24' } }],
    enableIPv6: false,
    containers: [],
    configOnly: false,
  };
}

const deletes = (ops: { kind: string; title: string }[]) => ops.filter((o) => o.kind === 'ip').map((o) => o.title);

/** What destroy would do (planDestroy → planOperations) and what it leaves alone. */
function destroyTarget(name: string, facts: HostFacts, force: boolean, state: NetworkState | undefined) {
  const plan = planDestroy(name, facts, state ? { network: state.network } : {}, { force });
  return { ops: planOperations(plan), skipped: plan.warnings.filter((w) => w.code === LEFT_ALONE).map((w) => w.message) };
}

describe('destroyTarget: what is ours', () => {
  it('leaves an interface that merely carries the alias, with no record and no Docker network, and says why', () => {
    const t = destroyTarget('mynet', facts(), false, undefined);
    expect(t.ops).toEqual([]);
    expect(t.skipped.join('\n')).toMatch(/interface mynet-shim carries the alias macvlanctl:mynet, but nothing proves it is macvlanctl's \(there is no record of mynet/);
  });

  it('deletes the shim when the record names its MAC', () => {
    const f = facts();
    expect(deletes(destroyTarget('mynet', f, false, record(shimMac(f))).ops)).toEqual(['delete shim mynet-shim (with its address and route)']);
  });

  it('deletes the shim when a Docker network labelled as ours names its MAC', () => {
    const f = facts();
    const net = labelled({ 'io.macvlanctl.managed': 'true', 'io.macvlanctl.shim': 'mynet-shim', 'io.macvlanctl.shim-mac': shimMac(f) });
    const t = destroyTarget('mynet', { ...f, docker: docker([net]) }, false, undefined);
    expect(deletes(t.ops)).toEqual(['delete shim mynet-shim (with its address and route)']);
  });

  it('does not take the MAC from a Docker network that is not ours', () => {
    const f = facts();
    const net = labelled({ 'io.macvlanctl.shim': 'mynet-shim', 'io.macvlanctl.shim-mac': shimMac(f) });
    const t = destroyTarget('mynet', { ...f, docker: docker([net]) }, false, undefined);
    expect(t.ops).toEqual([]);
  });

  it('leaves an aliased interface whose MAC is not the recorded one', () => {
    const t = destroyTarget('mynet', facts(), false, record('02:00:00:00:00:99'));
    expect(deletes(t.ops)).toEqual([]);
    expect(t.skipped.join('\n')).toMatch(/its MAC .* is not the shim's 02:00:00:00:00:99/);
  });

  it('leaves a veth that carries the alias, even with the recorded MAC', () => {
    const f = facts();
    const mac = shimMac(f);
    const veth = { ...f, interfaces: f.interfaces.map((i) => (i.name === 'mynet-shim' ? { ...i, kind: 'veth' as const } : i)) };
    const t = destroyTarget('mynet', veth, false, record(mac));
    expect(deletes(t.ops)).toEqual([]);
    expect(t.skipped.join('\n')).toMatch(/it is a veth interface, not a macvlan/);
  });
});

describe('planDestroy: destroy is a plan', () => {
  const f = facts();
  const ours = labelled({ 'io.macvlanctl.managed': 'true', 'io.macvlanctl.shim': 'mynet-shim', 'io.macvlanctl.shim-mac': shimMac(f) });
  const managed = [{ path: '/etc/systemd/system/macvlanctl-mynet.service', network: 'mynet', content: 'x', mode: 0o644 }];
  const withAll = (over: Partial<DockerNetworkFact> = {}): HostFacts => ({
    ...f,
    docker: docker([{ ...ours, ...over }]),
    persistence: { managed, selfCommand: ['/usr/bin/macvlanctl'], managers: {} as never, evidence: 'e0' },
  });

  it('deletes the shim (naming its address and route), the Docker network (its re-create body kept), the files and the record; host side first, loads last', () => {
    const p = planDestroy('mynet', withAll(), { network: record(shimMac(f)).network });
    expect(p.changes.map((c) => `${c.action} ${c.kind}`)).toEqual(['delete shim-link', 'delete docker-network', 'delete persist-file', 'delete record']);
    expect(p.changes[0]!.reason).toMatch(/198\.51\.100\.223\/32, route 198\.51\.100\.192\/27/);
    expect(p.changes[1]).toMatchObject({ before: { id: 'net1', body: { Name: 'mynet', Labels: { 'io.macvlanctl.managed': 'true' } } } });
    const ops = planOperations(p);
    expect(ops.map((o) => o.kind)).toEqual(['ip', 'docker-remove', 'file-remove', 'state-remove', 'persist-load']);
    expect(ops[1]).toMatchObject({ id: 'net1', recreate: { Name: 'mynet' } });
    expect(ops[4]).toMatchObject({ backend: 'systemd', removed: ['/etc/systemd/system/macvlanctl-mynet.service'], shim: 'mynet-shim' });
  });

  it('refuses in the plan while containers are attached; --force plans their disconnection', () => {
    const busy = withAll({ containers: [{ id: 'c1', name: 'web' }] });
    const refused = planDestroy('mynet', busy, {});
    expect(refused.errors).toEqual([expect.objectContaining({ code: 'DOCKER_CONFLICT', message: expect.stringMatching(/1 container\(s\) attached \(web\); stop them, or pass --force/) })]);
    expect(() => planOperations(refused)).toThrow(/pass --force/);
    const forced = planDestroy('mynet', busy, {}, { force: true });
    expect(forced.errors).toBeUndefined();
    expect(forced.changes.find((c) => c.kind === 'docker-network')).toMatchObject({ disconnect: [{ id: 'c1', name: 'web' }] });
  });

  it('--force: the disconnection is an operation of the plan, first, so destroy runs it and --show-commands shows it', async () => {
    const forced = planDestroy('mynet', withAll({ containers: [{ id: 'c1', name: 'web' }] }), { network: record(shimMac(f)).network }, { force: true });
    const ops = planOperations(forced);
    expect(ops.map((o) => o.kind)).toEqual(['docker-disconnect', 'ip', 'docker-remove', 'file-remove', 'state-remove', 'persist-load']);
    expect(ops[0]).toMatchObject({ id: 'net1', container: { id: 'c1', name: 'web' } });
    expect(commandLines(ops)[0]).toBe('docker network disconnect -f mynet web');
    const calls: string[] = [];
    const ports = {
      docker: {
        disconnectContainer: async (network: string, container: string) => void calls.push(`disconnect ${network} ${container}`),
        removeNetwork: async (id: string) => void calls.push(`rm ${id}`),
      },
      ip: { batch: async (lines: string[]) => void calls.push(...lines) },
      log: () => {},
    } as unknown as Ports;
    await runOperations(ops.slice(0, 3), ports);
    expect(calls).toEqual(['disconnect net1 c1', 'link del dev mynet-shim', 'rm net1']);
  });

  it('a corrupt record goes with the rest; with nothing of ours there is nothing to do', () => {
    expect(planDestroy('mynet', facts(), { corrupt: true }).changes.map((c) => c.kind)).toEqual(['record']);
    expect(planDestroy('other', facts(), {}).changes).toEqual([]);
  });
});
