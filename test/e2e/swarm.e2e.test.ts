// #13 end to end: one macvlanctl.yaml, a whole Docker Swarm. Three lab hosts, each dockerd in its own
// network and UTS namespace (so each engine names itself h1/h2/h3), h1 the manager. `apply -f` on a worker
// first, then on the manager, then on the last node; a replicated service on the swarm network; every
// task's address in its node's slice, no duplicates; every host, every task's own host and the router
// reach the tasks; scaled to 12, the same; the fleet view on the manager; destroy everywhere leaves no
// macvlan link and no swarm network.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cidrContains, parseAddress, parseCidr } from '../../src/net/address.js';
import { type Lab, type LabHost, type LabSwarm, LAB_IMAGE, createLab, formSwarm } from './lab.js';
import { macvlanctl } from './support/cli.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('swarm.e2e: SKIPPED — needs root (network namespaces, dockerd)');

const SLICES: Record<string, string> = { h1: '198.51.100.192/28', h2: '198.51.100.208/28', h3: '198.51.100.224/28' };
const SHIMS: Record<string, string> = { h1: '198.51.100.207', h2: '198.51.100.223', h3: '198.51.100.239' };

const FILE = `networks:
  lan:
    parent: eno1
    subnet: 198.51.100.0/24
    gateway: 198.51.100.1
    ip_range: 198.51.100.192/26
    swarm:
      nodes: [h1, h2, h3]
      attachable: true
`;

type Task = { ID: string; NodeID: string; Status: { State: string; ContainerStatus?: { ContainerID?: string } } };
type RunningTask = { id: string; node: string; address: string; container: string };

describe.skipIf(!isRoot)('swarm: one file, a whole Docker Swarm (root: 3 namespaces, 3 dockerd)', () => {
  let lab: Lab | undefined;
  let swarm: LabSwarm;
  const roots: Record<string, string> = {};
  const file = (name: string, text = FILE): string => {
    const p = join(roots[name]!, 'macvlanctl.yaml');
    writeFileSync(p, text);
    return p;
  };
  const cli = (h: LabHost, args: string[]) => macvlanctl(h, args, { root: roots[h.name]! });

  beforeAll(async () => {
    lab = await createLab({
      prefix: `hese${Date.now().toString(16).slice(-6)}`,
      docker: true,
      ipv6: false,
      hosts: [
        { name: 'h1', address: '198.51.100.11' },
        { name: 'h2', address: '198.51.100.12' },
        { name: 'h3', address: '198.51.100.13' },
      ],
      log: (l) => console.error(l),
    });
    swarm = await formSwarm(lab.hosts);
    for (const h of lab.hosts) roots[h.name] = mkdtempSync(join(tmpdir(), `macvlanctl-swarm-${h.name}-`));
  }, 180_000);

  afterAll(async () => {
    await lab?.destroy();
    for (const r of Object.values(roots)) rmSync(r, { recursive: true, force: true });
  });

  async function macvlanLinks(h: LabHost): Promise<{ ifname: string; addr_info?: { local: string }[] }[]> {
    const r = await h.exec(['ip', '-json', 'addr', 'show', 'type', 'macvlan'], { check: true });
    return JSON.parse(r.stdout || '[]');
  }

  async function expectNodePart(h: LabHost): Promise<void> {
    const cfg = (await h.dockerApi('GET', '/networks/lan-config')).json as { ConfigOnly: boolean; Options: Record<string, string>; IPAM: { Config: { IPRange: string; AuxiliaryAddresses: Record<string, string> }[] } };
    expect(cfg.ConfigOnly).toBe(true);
    expect(cfg.Options.parent).toBe('eno1');
    expect(cfg.IPAM.Config[0]).toMatchObject({ IPRange: SLICES[h.name], AuxiliaryAddresses: { host: SHIMS[h.name] } });
    const links = await macvlanLinks(h);
    expect(links.map((l) => [l.ifname, l.addr_info?.map((a) => a.local)])).toEqual([['lan-shim', [SHIMS[h.name]]]]);
    const routes = await h.exec(['ip', '-json', 'route', 'show', 'dev', 'lan-shim'], { check: true });
    expect((JSON.parse(routes.stdout) as { dst: string }[]).map((r) => r.dst)).toEqual([SLICES[h.name]]);
  }

  async function runningTasks(want: number): Promise<RunningTask[]> {
    const manager = lab!.host('h1');
    const nodeName = new Map(swarm.nodes.map((n) => [n.nodeId, n.name]));
    for (let i = 0; i < 240; i++) {
      const tasks = (await manager.dockerApi('GET', `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: ['web'], 'desired-state': ['running'] }))}`)).json as Task[];
      const running = tasks.filter((t) => t.Status.State === 'running');
      if (running.length === want) {
        const v = (await manager.dockerApi('GET', '/networks/lan?verbose=true')).json as { Services?: Record<string, { Tasks?: { Name: string; EndpointIP: string }[] }> };
        const eps = v.Services?.web?.Tasks ?? [];
        const out = running.map((t) => ({
          id: t.ID,
          node: nodeName.get(t.NodeID) ?? t.NodeID,
          address: eps.find((e) => e.Name.endsWith(`.${t.ID}`))?.EndpointIP ?? '',
          container: t.Status.ContainerStatus?.ContainerID ?? '',
        }));
        if (out.every((t) => t.address !== '')) return out;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`${want} running tasks with addresses did not appear`);
  }

  async function expectTasksPlacedAndReachable(want: number): Promise<void> {
    const tasks = await runningTasks(want);
    const addresses = tasks.map((t) => t.address);
    expect(new Set(addresses).size, `duplicates among ${addresses.join(' ')}`).toBe(want);
    for (const t of tasks) expect(cidrContains(parseCidr(SLICES[t.node]!), parseAddress(t.address)), `${t.address} on ${t.node}`).toBe(true);
    expect(new Set(tasks.map((t) => t.node)).size).toBe(3); // the scheduler spreads them over the three nodes
    const ping = (exec: (cmd: string[]) => Promise<{ code: number; stdout: string; stderr: string }>, to: string) =>
      exec(['ping', '-c', '1', '-W', '2', to]).then((r) => ({ to, ok: r.code === 0, out: r.stdout + r.stderr }));
    // every host reaches every task (its own through its shim, the others' straight over the LAN)
    const fromHosts = await Promise.all(lab!.hosts.flatMap((h) => tasks.map((t) => ping((c) => h.exec(['busybox', ...c]), t.address).then((r) => ({ ...r, from: h.name })))));
    expect(fromHosts.filter((r) => !r.ok).map((r) => `${r.from} → ${r.to}`)).toEqual([]);
    // every task reaches its own host, and the router reaches every task
    const fromTasks = await Promise.all(tasks.map((t) => ping((c) => lab!.host(t.node).dockerCli(['exec', t.container, ...c]), lab!.host(t.node).address).then((r) => ({ ...r, from: t.address }))));
    expect(fromTasks.filter((r) => !r.ok).map((r) => `${r.from} → ${r.to}: ${r.out}`)).toEqual([]);
    const fromRouter = await Promise.all(tasks.map((t) => ping((c) => lab!.lanExec(['busybox', ...c]), t.address)));
    expect(fromRouter.filter((r) => !r.ok).map((r) => `router → ${r.to}`)).toEqual([]);
  }

  it('a node that is not listed is refused (exit 2) and nothing changes', { timeout: 60_000 }, async () => {
    const h3 = lab!.host('h3');
    const only2 = file('h3', FILE.replace('[h1, h2, h3]', '[h1, h2]'));
    const r = await cli(h3, ['apply', '-f', only2, '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toContain('this node is h3 (as its Docker engine names itself), which is not listed (h1, h2)');
    expect(await macvlanLinks(h3)).toEqual([]);
    const nets = (await h3.dockerApi('GET', '/networks')).json as { Name: string }[];
    expect(nets.map((n) => n.Name).filter((n) => n.startsWith('lan'))).toEqual([]);
    // no persistence file, no record: the root holds the file it was given (and the lock's run/ at most)
    expect(readdirSync(roots.h3!, { recursive: true }).map(String).filter((f) => f.startsWith('etc') || f.startsWith('var'))).toEqual([]);
  });

  it('apply on a worker, then the manager, then the last node; a service of 6, then 12, stays in the slices and reaches everyone', { timeout: 300_000 }, async () => {
    const [h1, h2, h3] = [lab!.host('h1'), lab!.host('h2'), lab!.host('h3')];
    const w = await cli(h2, ['apply', '-f', file('h2'), '--yes']);
    expect(w.code, w.stdout + w.stderr).toBe(0);
    expect(w.stdout + w.stderr).toContain('the swarm network lan comes from a manager');
    await expectNodePart(h2);
    // the persistence files of a node's part: its shim with its slice's route (render asks the engine which node it is)
    const r = await cli(h2, ['render', '-f', file('h2')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('# network lan: systemd');

    const m = await cli(h1, ['apply', '-f', file('h1'), '--yes']);
    expect(m.code, m.stdout + m.stderr).toBe(0);
    await expectNodePart(h1);
    const sw = (await h1.dockerApi('GET', '/networks/lan')).json as { Scope: string; Driver: string; ConfigFrom: { Network: string }; Attachable: boolean };
    expect(sw).toMatchObject({ Scope: 'swarm', Driver: 'macvlan', ConfigFrom: { Network: 'lan-config' }, Attachable: true });

    const l = await cli(h3, ['apply', '-f', file('h3'), '--yes']);
    expect(l.code, l.stdout + l.stderr).toBe(0);
    await expectNodePart(h3);
    // applied again: nothing to do, on a worker and on the manager
    for (const h of [h1, h2]) {
      const again = await cli(h, ['plan', '-f', file(h.name)]);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).toMatch(/no changes/i);
    }

    const svc = await h1.dockerCli(['service', 'create', '--detach', '--no-resolve-image', '--name', 'web', '--network', 'lan', '--replicas', '6', LAB_IMAGE, 'sleep', '3600']);
    expect(svc.code, svc.stderr).toBe(0);
    await expectTasksPlacedAndReachable(6);
    const scale = await h1.dockerCli(['service', 'scale', '--detach', 'web=12']);
    expect(scale.code, scale.stderr).toBe(0);
    await expectTasksPlacedAndReachable(12);
  });

  it('the fleet view on the manager names the three nodes, their slices and the tasks', { timeout: 60_000 }, async () => {
    const h1 = lab!.host('h1');
    const s = await cli(h1, ['status', 'lan']);
    expect(s.code, s.stdout + s.stderr).toBe(0);
    for (const n of ['h1', 'h2', 'h3']) expect(s.stdout).toMatch(new RegExp(`${n} +(manager|worker) +slice ${SLICES[n]!.replace(/[./]/g, '\\$&')} shim ${SHIMS[n]!.replace(/\./g, '\\.')} +4 tasks`));
    const j = await cli(h1, ['status', 'lan', '--json']);
    const fleet = j.json?.result?.networks?.[0]?.swarm;
    expect(fleet.nodes.map((n: { node: string; slice: string }) => `${n.node} ${n.slice}`)).toEqual(['h1 198.51.100.192/28', 'h2 198.51.100.208/28', 'h3 198.51.100.224/28']);
    expect(fleet.findings).toEqual([]);
    // doctor on the manager: the fleet's checks, all passing
    const d = await cli(h1, ['doctor', 'lan', '--no-scan', '--json']);
    const checks = (d.json?.result?.networks?.[0]?.checks ?? []) as { id: string; verdict: string }[];
    expect(checks.filter((c) => c.id.startsWith('swarm-')).map((c) => `${c.id} ${c.verdict}`)).toEqual([
      'swarm-task-outside-slice pass',
      'swarm-duplicate-address pass',
      'swarm-task-address-unseen pass',
      'swarm-node-without-slice pass',
      'swarm-listed-not-in-swarm pass',
      'swarm-missing-config-network pass',
    ]);
    // a worker has no fleet view: it says where to look
    const w = await cli(lab!.host('h2'), ['status', 'lan']);
    expect(w.stdout + w.stderr).toMatch(/fleet view.*manager/);
  });

  it('destroy: the manager refuses while a service uses the swarm network; then every node removes its part', { timeout: 120_000 }, async () => {
    const [h1, h2, h3] = [lab!.host('h1'), lab!.host('h2'), lab!.host('h3')];
    const refused = await cli(h1, ['destroy', 'lan', '--yes']);
    expect(refused.code, refused.stdout + refused.stderr).not.toBe(0);
    expect(refused.stderr).toMatch(/service web/);
    expect((await h1.dockerApi('GET', '/networks/lan')).status).toBe(200);
    expect(await macvlanLinks(h1)).toHaveLength(1);

    const rm = await h1.dockerCli(['service', 'rm', 'web']);
    expect(rm.code, rm.stderr).toBe(0);
    // the tasks' containers go away on every node before the config-only networks can
    for (let i = 0; i < 60; i++) {
      const left = await Promise.all(lab!.hosts.map((h) => h.dockerCli(['ps', '-q']).then((r) => r.stdout.trim())));
      if (left.every((x) => x === '')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    for (const h of [h1, h2, h3]) {
      const d = await cli(h, ['destroy', 'lan', '--yes']);
      expect(d.code, `${h.name}: ${d.stdout}${d.stderr}`).toBe(0);
    }
    for (const h of lab!.hosts) {
      expect(await macvlanLinks(h)).toEqual([]);
      const nets = (await h.dockerApi('GET', '/networks')).json as { Name: string }[];
      expect(nets.map((n) => n.Name).filter((n) => n.startsWith('lan')), h.name).toEqual([]);
    }
  });
});
