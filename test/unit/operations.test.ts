import { describe, expect, it } from 'vitest';
import { flagsToRaw } from '../../src/config/flags.js';
import { toDesired } from '../../src/config/to-desired.js';
import { planOperations } from '../../src/apply/operations.js';
import { type Ports, runOperations } from '../../src/apply/run-operations.js';
import { AggregateMacvlanError, MacvlanError } from '../../src/model/errors.js';
import type { HostFacts } from '../../src/model/facts.js';
import { parseCidr } from '../../src/net/address.js';
import { computePlan } from '../../src/plan/compute-plan.js';
import { deriveShimMac } from '../../src/plan/shim-identity.js';
import { BatchError } from '../../src/system/ip-batch.js';
import { docker, hostFacts, mynetWithOtherSettings } from '../support/fixture-facts.js';

const RECIPE = { parent: 'eno1', ipRange: ['198.51.100.192/27'], auxAddress: ['host=198.51.100.223'] };

function ops(facts: HostFacts = hostFacts(), replace = false) {
  const plan = computePlan([toDesired(flagsToRaw('mynet', RECIPE))], facts, { replace });
  return planOperations(plan);
}

describe('planOperations', () => {
  it('builds the recipe: Docker network first, then the shim with its fixed MAC, arp_notify before link-up', () => {
    const mac = deriveShimMac('test-host-id', '02:00:c6:33:64:18', 'mynet');
    const o = ops();
    expect(o.map((x) => (x.kind === 'ip' ? x.line : x.kind))).toEqual([
      'docker-create',
      `link add mynet-shim link eno1 address ${mac} type macvlan mode bridge`,
      'link set dev mynet-shim alias macvlanctl:mynet',
      'addr add 198.51.100.223/32 dev mynet-shim',
      'sysctl',
      'sysctl',
      'link set dev mynet-shim up',
      'route add 198.51.100.192/27 dev mynet-shim',
      'state-write',
    ]);
    const create = o[0]!;
    expect(create.kind === 'docker-create' && create.body).toMatchObject({
      Name: 'mynet',
      Driver: 'macvlan',
      Options: { parent: 'eno1' },
      IPAM: { Config: [{ Subnet: '198.51.100.0/24', Gateway: '198.51.100.1', IPRange: '198.51.100.192/27', AuxiliaryAddresses: { host: '198.51.100.223' } }] },
      Labels: { 'io.macvlanctl.managed': 'true', 'io.macvlanctl.shim': 'mynet-shim' },
    });
  });

  it('repairs only what drifted on an existing shim; each repair that proves it changed something has its own undo', () => {
    const base = hostFacts('lab-host', { hostId: 'x' });
    const mac = deriveShimMac('x', '02:00:c6:33:64:18', 'mynet');
    // our shim, right MAC, but down and without its route
    const facts: HostFacts = {
      ...base,
      interfaces: base.interfaces.map((i) => (i.name === 'mynet-shim' ? { ...i, mac, up: false } : i)),
      routes: base.routes.filter((r) => r.device !== 'mynet-shim'),
      docker: docker([]),
    };
    const o = ops(facts).filter((x) => x.kind === 'ip');
    expect(o).toEqual([
      expect.objectContaining({ line: 'link set dev mynet-shim up' }),
      expect.objectContaining({ line: 'route add 198.51.100.192/27 dev mynet-shim', undo: 'route del 198.51.100.192/27 dev mynet-shim' }),
    ]);
    // `link set up` succeeds on a link that is already up: no undo may take the shim down (issue #14 item 2)
    expect(o[0]).not.toHaveProperty('undo');
  });

  it('leaves a same-named network with other settings alone unless --replace, and never replaces one in use', () => {
    const existing = mynetWithOtherSettings();
    const facts = hostFacts('fresh-host', { docker: docker([existing]) });
    expect(() => ops(facts)).toThrow(/left alone; pass --replace/);
    // the differences once, from the facts: not the plan's display reason pasted after the same words
    const refusal = (() => {
      try {
        ops(facts);
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(refusal.match(/exists with different settings/g)).toHaveLength(1);
    expect(refusal).toMatch(/exists with different settings \(ip-range \(none\) ≠ 198\.51\.100\.192\/27; .*\)\. It is left alone/);
    const replaced = ops(facts, true);
    expect(replaced.slice(0, 2).map((x) => x.kind)).toEqual(['docker-remove', 'docker-create']);
    const busy = hostFacts('fresh-host', { docker: docker([{ ...existing, containers: [{ id: 'c1', name: 'pihole' }] }]) });
    expect(() => ops(busy, true)).toThrow(/1 container\(s\) attached \(pihole\); it is never replaced while in use/);
  });

  it('the planner decides: a replace with --replace (before: the existing id and body; after: the create body), a refusal in the plan otherwise', () => {
    const existing = mynetWithOtherSettings();
    const facts = hostFacts('fresh-host', { docker: docker([existing]) });
    const desired = [toDesired(flagsToRaw('mynet', RECIPE))];
    const refused = computePlan(desired, facts);
    const change = refused.changes.find((c) => c.kind === 'docker-network');
    expect(change).toMatchObject({ action: 'replace', before: { id: 'abc', body: { Name: 'mynet', Options: { parent: 'eno1' } } }, after: { Name: 'mynet', Driver: 'macvlan' } });
    expect(refused.errors).toEqual([expect.objectContaining({ code: 'DOCKER_CONFLICT', details: expect.objectContaining({ network: 'mynet' }) })]);
    expect(refused.errors![0]!.message).toMatch(/pass --replace/);
    const replaced = computePlan(desired, facts, { replace: true });
    expect(replaced.errors).toBeUndefined();
    // planOperations reads the plan alone: the ids and bodies come from the change, not from facts
    const o = planOperations(replaced);
    expect(o[0]).toMatchObject({ kind: 'docker-remove', id: 'abc', recreate: { Name: 'mynet', Options: { parent: 'eno1' } } });
    expect(o[1]).toMatchObject({ kind: 'docker-create', body: change!.kind === 'docker-network' ? change!.after : undefined });
    const busy = hostFacts('fresh-host', { docker: docker([{ ...existing, containers: [{ id: 'c1', name: 'pihole' }] }]) });
    expect(computePlan(desired, busy, { replace: true }).errors?.[0]?.message).toMatch(/Stop or disconnect them first/);
  });
});

describe('the shim follows the network to a new range', () => {
  it('takes the old host address and route off our shim, each put back on undo', () => {
    // lab-host: our mynet-shim holds 198.51.100.223/32 and routes 198.51.100.192/27
    const lab = hostFacts('lab-host', { hostId: 'x', docker: docker([]) });
    const mac = deriveShimMac('x', '02:00:c6:33:64:18', 'mynet');
    const base = { ...lab, interfaces: lab.interfaces.map((i) => (i.name === 'mynet-shim' ? { ...i, mac } : i)) };
    const moved = { parent: 'eno1', ipRange: ['198.51.100.160/27'], auxAddress: ['host=198.51.100.191'] };
    const plan = computePlan([toDesired(flagsToRaw('mynet', moved))], base);
    const stale = plan.changes.filter((c) => c.action === 'delete').map((c) => c.summary);
    expect(stale).toEqual(['address 198.51.100.223/32 on mynet-shim', 'route 198.51.100.192/27 dev mynet-shim']);
    const lines = planOperations(plan).flatMap((o) => (o.kind === 'ip' ? [[o.line, o.undo]] : []));
    expect(lines).toEqual(
      expect.arrayContaining([
        ['route del 198.51.100.192/27 dev mynet-shim', 'route add 198.51.100.192/27 dev mynet-shim'],
        ['addr del 198.51.100.223/32 dev mynet-shim', 'addr add 198.51.100.223/32 dev mynet-shim'],
        ['addr add 198.51.100.191/32 dev mynet-shim', 'addr del 198.51.100.191/32 dev mynet-shim'],
        ['route add 198.51.100.160/27 dev mynet-shim', 'route del 198.51.100.160/27 dev mynet-shim'],
      ]),
    );
  });

  it('one repair of every part of an existing shim, in one order: stale routes, stale addresses, new addresses, MTU, sysctls, up, routes', () => {
    const lab = hostFacts('lab-host', { hostId: 'x', docker: docker([]) });
    const mac = deriveShimMac('x', '02:00:c6:33:64:18', 'mynet');
    // our shim, moved to a new range while it was down, with an MTU other than its parent's
    const base = { ...lab, interfaces: lab.interfaces.map((i) => (i.name === 'mynet-shim' ? { ...i, mac, up: false, mtu: 1400 } : i)) };
    const moved = { parent: 'eno1', ipRange: ['198.51.100.160/27'], auxAddress: ['host=198.51.100.191'] };
    const steps = planOperations(computePlan([toDesired(flagsToRaw('mynet', moved))], base)).flatMap((o) =>
      o.kind === 'ip' ? [o.line] : o.kind === 'sysctl' ? [`sysctl ${o.key}=${o.value}`] : [],
    );
    expect(steps).toEqual([
      'route del 198.51.100.192/27 dev mynet-shim',
      'addr del 198.51.100.223/32 dev mynet-shim',
      'addr add 198.51.100.191/32 dev mynet-shim',
      'link set dev mynet-shim mtu 1500',
      'sysctl arp_notify=1',
      'sysctl disable_ipv6=1',
      'link set dev mynet-shim up',
      'route add 198.51.100.160/27 dev mynet-shim',
    ]);
  });

  it('an applied network has nothing stale', () => {
    const lab = hostFacts('lab-host', { hostId: 'x', docker: docker([]) });
    const mac = deriveShimMac('x', '02:00:c6:33:64:18', 'mynet');
    // the kernel's route of the shim's own address (for IPv6, seen without proto kernel) is not stale either
    const ownRoute = { family: 4 as const, destination: parseCidr('198.51.100.223/32'), device: 'mynet-shim' };
    const base = { ...lab, interfaces: lab.interfaces.map((i) => (i.name === 'mynet-shim' ? { ...i, mac } : i)), routes: [...lab.routes, ownRoute] };
    const plan = computePlan([toDesired(flagsToRaw('mynet', RECIPE))], base);
    expect(plan.changes.filter((c) => c.action !== 'noop' && c.kind !== 'docker-network')).toEqual([]);
  });
});

describe('runOperations', () => {
  function fakePorts(failAtLine?: string) {
    const calls: string[] = [];
    const ports: Ports = {
      docker: {
        createNetwork: async (b) => {
          calls.push(`docker create ${b.Name}`);
          return 'net-id';
        },
        removeNetwork: async (id) => void calls.push(`docker rm ${id}`),
        disconnectContainer: async (network, container) => void calls.push(`docker disconnect ${network} ${container}`),
        findNetwork: async () => undefined,
      },
      ip: {
        batch: async (lines) => {
          const idx = failAtLine ? lines.indexOf(failAtLine) : -1;
          const ok = idx < 0 ? lines : lines.slice(0, idx);
          for (const l of ok) calls.push(`ip ${l}`);
          if (idx >= 0) throw new BatchError(`'ip ${failAtLine}' failed: RTNETLINK answers: Address already in use`, idx, '');
        },
        batchForce: async (lines) => {
          for (const l of lines) calls.push(`undo ${l}`);
          return [];
        },
        sysctl: (_f, i, k, v) => void calls.push(`sysctl ${i} ${k}=${v}`),
      },
      state: {
        read: () => undefined,
        write: (n) => void calls.push(`state write ${n.name}`),
        restore: (name, text) => void calls.push(`state restore ${name} ${text ?? '(none)'}`),
      },
      files: {
        write: (path) => (calls.push(`write ${path}`), () => void calls.push(`put back ${path}`)),
        link: (path) => (calls.push(`link ${path}`), () => void calls.push(`put back ${path}`)),
        remove: (path) => (calls.push(`remove ${path}`), () => void calls.push(`put back ${path}`)),
      },
      load: async (req) => (calls.push(`load ${req.backend}`), []),
      log: () => {},
    };
    return { ports, calls };
  }

  it('runs every step in order', async () => {
    const { ports, calls } = fakePorts();
    const report = await runOperations(ops(), ports);
    expect(report.done).toHaveLength(9);
    expect(calls[0]).toBe('docker create mynet');
    expect(calls.slice(-2)).toEqual(['ip route add 198.51.100.192/27 dev mynet-shim', 'state write mynet']);
  });

  it('a failed repair of an existing shim never takes the shim down on rollback', async () => {
    // The facts say: our shim, down, no route. Another run brings it up and adds the route meanwhile,
    // so this run's `route add` fails (File exists). Its rollback must not set the shim down.
    const base = hostFacts('lab-host', { hostId: 'x' });
    const mac = deriveShimMac('x', '02:00:c6:33:64:18', 'mynet');
    const facts: HostFacts = {
      ...base,
      interfaces: base.interfaces.map((i) => (i.name === 'mynet-shim' ? { ...i, mac, up: false } : i)),
      routes: base.routes.filter((r) => r.device !== 'mynet-shim'),
      docker: docker([]),
    };
    const { ports, calls } = fakePorts('route add 198.51.100.192/27 dev mynet-shim');
    await expect(runOperations(ops(facts), ports)).rejects.toThrow(/route 198.51.100.192\/27 via mynet-shim/);
    expect(calls).toContain('ip link set dev mynet-shim up');
    expect(calls.filter((c) => c.startsWith('undo '))).toEqual([]);
  });

  it('rolls back in reverse order when a step fails half-way, and reports it', async () => {
    const { ports, calls } = fakePorts('link set dev mynet-shim up');
    const err = await runOperations(ops(), ports).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AggregateMacvlanError);
    expect((err as MacvlanError).code).toBe('APPLY_FAILED');
    expect((err as MacvlanError).message).toMatch(/the host is as it was/);
    expect((err as MacvlanError).message).toMatch(/bring mynet-shim up: 'ip link set dev mynet-shim up' failed/);
    // the link (with its address) is deleted, then the Docker network removed
    expect(calls.slice(-2)).toEqual(['undo link del dev mynet-shim', 'docker rm net-id']);
    expect(calls).not.toContain('ip route add 198.51.100.192/27 dev mynet-shim');
    expect(calls).not.toContain('state write mynet');
  });
});

describe('runOperations: interrupts, unknown outcomes, wording', () => {
  function ports(over: Partial<Ports['docker']> = {}) {
    const calls: string[] = [];
    const p: Ports = {
      docker: {
        createNetwork: async (b) => (calls.push(`docker create ${b.Name}`), 'net-id'),
        removeNetwork: async (id) => void calls.push(`docker rm ${id}`),
        disconnectContainer: async (network, container) => void calls.push(`docker disconnect ${network} ${container}`),
        findNetwork: async () => undefined,
        ...over,
      },
      ip: {
        batch: async (lines) => void calls.push(...lines.map((l) => `ip ${l}`)),
        batchForce: async (lines) => (calls.push(...lines.map((l) => `undo ${l}`)), []),
        sysctl: () => {},
      },
      state: { read: () => undefined, write: (n) => void calls.push(`state write ${n.name}`), restore: (name) => void calls.push(`state restore ${name}`) },
      files: { write: () => () => {}, link: () => () => {}, remove: () => () => {} },
      load: async () => [],
      log: () => {},
    };
    return { ports: p, calls };
  }
  const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('did not fail'); }, (e: unknown) => e as MacvlanError);
  const timedOut = () => new MacvlanError('DOCKER_ERROR', 'the Docker engine did not answer POST /networks/create within 1000 ms', { outcomeUnknown: true });

  it('names the command that failed: up, not apply', async () => {
    const { ports: p } = ports();
    p.ip.batch = async () => {
      throw new BatchError(`'ip link set dev mynet-shim up' failed: RTNETLINK answers: Address already in use`, 0, '');
    };
    const shimOnly = ops().filter((o) => o.kind === 'ip');
    const e = await failure(runOperations(shimOnly, p, { command: 'up' }));
    expect(e.message).toMatch(/^up failed \(/);
    expect(e.message).not.toMatch(/apply/);
  });

  it('an abort between steps stops there and undoes what was done, as ABORTED with the signal', async () => {
    const { ports: p, calls } = ports();
    const controller = new AbortController();
    // the signal arrives while the Docker network is being made: that step finishes, nothing after it runs
    p.docker.createNetwork = async (b) => {
      calls.push(`docker create ${b.Name}`);
      controller.abort('SIGINT');
      return 'net-id';
    };
    const e = await failure(runOperations(ops(), p, { signal: controller.signal }));
    expect(e.code).toBe('ABORTED');
    expect(e.details.signal).toBe('SIGINT');
    expect(e.message).toMatch(/^apply interrupted \(everything done before it was undone; the host is as it was\)/);
    expect(calls).toEqual(['docker create mynet', 'docker rm net-id']);
  });

  it('a create that timed out but was made by the engine after all is found and removed', async () => {
    let made = false;
    const { ports: p, calls } = ports({
      createNetwork: async () => {
        setTimeout(() => (made = true), 30); // the engine finishes after the client gave up
        throw timedOut();
      },
      findNetwork: async (name) => (made ? { id: 'late-id', labels: { 'io.macvlanctl.managed': 'true', 'io.macvlanctl.shim': 'mynet-shim', 'io.macvlanctl.host-address': '198.51.100.223', 'io.macvlanctl.shim-mac': deriveShimMac('test-host-id', '02:00:c6:33:64:18', name) } } : undefined),
    });
    const e = await failure(runOperations(ops(), p, { settleMs: 2000 }));
    expect(e.message).toMatch(/the host is as it was/);
    expect(calls).toEqual(['docker rm late-id']);
  });

  it('a create that timed out and never showed up is not called a clean rollback', async () => {
    const { ports: p, calls } = ports({
      createNetwork: async () => {
        throw timedOut();
      },
    });
    const e = await failure(runOperations(ops(), p, { settleMs: 100 }));
    expect(e.message).not.toMatch(/the host is as it was/);
    expect(e.message).toMatch(/rollback was incomplete/);
    expect(e.message).toMatch(/Docker network mynet may exist/);
    expect(calls).toEqual([]);
  });

  it('a step no undo can reverse (a deleted drifted shim) means no claim of a clean rollback', async () => {
    // lab-host's mynet-shim carries our alias but not the MAC apply recorded: it is re-created
    const facts = hostFacts('lab-host', { hostId: 'x', docker: docker([]), appliedShimMacs: { mynet: '0a:00:00:00:00:01' } });
    const o = ops(facts).filter((x) => x.kind === 'ip');
    expect(o[0]).toMatchObject({ line: 'link del dev mynet-shim', irreversible: true });
    const { ports: p } = ports();
    p.ip.batch = async (lines) => {
      // the old link is deleted, the new one is refused
      throw new BatchError(`'ip ${lines[1]}' failed: RTNETLINK answers: File exists`, 1, '');
    };
    const e = await failure(runOperations(o, p));
    expect(e.message).not.toMatch(/the host is as it was/);
    expect(e.message).toMatch(/rollback: "delete drifted shim mynet-shim" cannot be undone; run apply again/);
  });

  it('a macvlan that only carries our alias (no record, no labelled network, another MAC) is not ours: apply refuses rather than delete it (issue #14 item 7)', () => {
    const facts = hostFacts('lab-host', { hostId: 'x', docker: docker([]) });
    let e: unknown;
    try {
      ops(facts);
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(MacvlanError);
    expect((e as MacvlanError).code).toBe('PLAN_UNSAFE');
    expect((e as MacvlanError).message).toMatch(/an interface named mynet-shim already exists and is not a macvlanctl shim \(it carries the alias macvlanctl:mynet, but not the shim's MAC, and mynet was never applied here/);
  });

  it('a network of that name with other labels is left alone', async () => {
    const { ports: p, calls } = ports({
      createNetwork: async () => {
        throw timedOut();
      },
      findNetwork: async () => ({ id: 'theirs', labels: {} }),
    });
    const e = await failure(runOperations(ops(), p, { settleMs: 100 }));
    expect(e.message).toMatch(/the host is as it was/);
    expect(calls).toEqual([]);
  });
});
