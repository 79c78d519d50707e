// The lab's Docker Swarm (#13): three dockerd, each in its own network and UTS namespace (so each engine
// reports its own name), one swarm over the lab bridge, per-node config-only networks holding disjoint
// slices, one swarm-scoped macvlan network, a replicated service whose tasks take addresses only from
// their own node's slice; and a teardown that leaves nothing.
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { cidrContains, formatAddress, formatCidr, parseAddress, parseCidr } from '../../src/net/address.js';
import { planSwarmSlices, sliceOfNode } from '../../src/plan/swarm-slices.js';
import { type Lab, LAB_IMAGE, createLab, formSwarm, netnsExists, processAlive } from './lab.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('swarm-lab.e2e: SKIPPED — needs root (network namespaces, dockerd)');

type VerboseNetwork = { Services?: Record<string, { Tasks?: { Name: string; EndpointIP: string }[] }> };
type Task = { ID: string; NodeID: string; Status: { State: string } };

describe.skipIf(!isRoot)('lab swarm (root: 3 namespaces, 3 dockerd)', () => {
  let lab: Lab | undefined;
  afterAll(async () => {
    await lab?.destroy();
  });

  it('forms a 3-node swarm whose macvlan tasks stay in their node slices, and tears it down', { timeout: 300_000 }, async () => {
    lab = await createLab({
      prefix: `hesw${Date.now().toString(16).slice(-6)}`,
      docker: true,
      ipv6: false,
      hosts: [
        { name: 'h1', address: '198.51.100.11' },
        { name: 'h2', address: '198.51.100.12' },
        { name: 'h3', address: '198.51.100.13' },
      ],
      log: (l) => console.error(l),
    });
    const t0 = Date.now();
    const swarm = await formSwarm(lab.hosts);
    console.error(`swarm formed in ${Date.now() - t0} ms`);
    expect(swarm.nodes.map((n) => [n.name, n.role])).toEqual([
      ['h1', 'manager'],
      ['h2', 'worker'],
      ['h3', 'worker'],
    ]);
    // each engine names itself after its own UTS namespace
    for (const h of lab.hosts) {
      const info = (await h.dockerApi('GET', '/info')).json as { Name: string; Swarm: { NodeID: string; ControlAvailable: boolean } };
      expect(info.Name).toBe(h.name);
      expect(info.Swarm.NodeID).toBe(swarm.nodes.find((n) => n.name === h.name)!.nodeId);
      expect(info.Swarm.ControlAvailable).toBe(h.name === 'h1');
    }

    const slices = planSwarmSlices({
      network: 'lan',
      range: parseCidr('198.51.100.192/26'),
      subnet: parseCidr(lab.cidr),
      gateway: parseAddress(lab.gateway),
      nodes: lab.hosts.map((h) => ({ name: h.name })),
    });
    for (const h of lab.hosts) {
      const s = sliceOfNode(slices, h.name)!;
      const res = await h.dockerApi('POST', '/networks/create', {
        Name: 'lan-cfg',
        ConfigOnly: true,
        Options: { parent: 'eno1' },
        IPAM: { Config: [{ Subnet: lab.cidr, Gateway: lab.gateway, IPRange: formatCidr(s.slice), AuxiliaryAddresses: { host: formatAddress(s.shim) } }] },
      });
      expect(res.status, res.body).toBe(201);
    }
    const manager = lab.host('h1');
    const net = await manager.dockerApi('POST', '/networks/create', { Name: 'lan', Driver: 'macvlan', Scope: 'swarm', ConfigFrom: { Network: 'lan-cfg' } });
    expect(net.status, net.body).toBe(201);
    const svc = await manager.dockerCli(['service', 'create', '--detach', '--no-resolve-image', '--name', 'web', '--network', 'lan', '--replicas', '6', LAB_IMAGE, 'sleep', '3600']);
    expect(svc.code, svc.stderr).toBe(0);

    const t1 = Date.now();
    let running: Task[] = [];
    for (let i = 0; i < 240 && running.length < 6; i++) {
      if (i) await new Promise((r) => setTimeout(r, 500));
      const tasks = (await manager.dockerApi('GET', `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: ['web'] }))}`)).json as Task[];
      running = tasks.filter((t) => t.Status.State === 'running');
    }
    console.error(`6 tasks running in ${Date.now() - t1} ms`);
    expect(running).toHaveLength(6);

    // every running task's address (the network's gossip, on the manager) lies in its own node's slice, no duplicates
    let endpoints: { Name: string; EndpointIP: string }[] = [];
    for (let i = 0; i < 40; i++) {
      const v = (await manager.dockerApi('GET', '/networks/lan?verbose=true')).json as VerboseNetwork;
      endpoints = v.Services?.web?.Tasks ?? [];
      if (running.every((t) => endpoints.some((e) => e.Name.endsWith(`.${t.ID}`)))) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const nodeName = new Map(swarm.nodes.map((n) => [n.nodeId, n.name]));
    const seen = new Set<string>();
    for (const t of running) {
      const ep = endpoints.find((e) => e.Name.endsWith(`.${t.ID}`));
      expect(ep, `endpoint of task ${t.ID}`).toBeDefined();
      const s = sliceOfNode(slices, nodeName.get(t.NodeID)!)!;
      expect(cidrContains(s.slice, parseAddress(ep!.EndpointIP)), `${ep!.EndpointIP} of a task on ${nodeName.get(t.NodeID)} in ${formatCidr(s.slice)}`).toBe(true);
      expect(seen.has(ep!.EndpointIP)).toBe(false);
      seen.add(ep!.EndpointIP);
    }

    // the swarm's own networks (docker_gwbridge, made once tasks run, and ingress) hold only addresses the lab may use
    const allowed = [parseCidr('198.51.100.0/24'), parseCidr('203.0.113.0/24')];
    for (const h of lab.hosts) {
      const links = JSON.parse((await h.exec(['ip', '-json', '-4', 'addr', 'show'], { check: true })).stdout) as { ifname: string; addr_info: { local: string }[] }[];
      const outside = links.flatMap((l) => l.addr_info.filter((a) => a.local !== '127.0.0.1' && !allowed.some((c) => cidrContains(c, parseAddress(a.local)))).map((a) => `${l.ifname} ${a.local}`));
      expect(outside, `${h.name}: addresses outside the lab's ranges`).toEqual([]);
    }
    const ingress = (await lab.host('h1').dockerApi('GET', '/networks/ingress')).json as { IPAM: { Config: { Subnet: string }[] } };
    expect(ingress.IPAM.Config.map((c) => `${c.Subnet} ${allowed.some((a) => cidrContains(a, parseCidr(c.Subnet).base))}`)).toEqual(['203.0.113.0/26 true']);

    const { dir } = lab;
    const pids = lab.hosts.map((h) => h.docker!.pid);
    await lab.destroy();
    for (const h of lab.hosts) expect(netnsExists(h.netns)).toBe(false);
    for (const p of pids) expect(processAlive(p)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    lab = undefined;
  });
});
