/**
 * A Docker macvlan network made by hand without an ip-range, with a
 * container at a static address in the middle of the subnet (Pi-hole's
 * setup), adopted by `apply NAME --parent eno1` (issue 12): the shim shares
 * the host's own address, the host reaches each container by a /32 route and
 * never by a route for the whole subnet; status and doctor check those routes,
 * `up` puts them back from the running containers, and `watch` adds a started
 * container's route within a second and takes a removed one's away.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, type LabHost, LAB_IMAGE, createLab } from './lab.js';
import { macvlanctl } from './support/cli.js';
import { type Watcher, startWatch } from './support/watcher.js';
import { containerPing as containerPingTries, eventually, hostPing } from './support/host-probes.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('adopt e2e: SKIPPED — needs root to build network namespaces and run dockerd');

const SHIM = 'pinet-shim';
const HOST = '198.51.100.24';
const PIHOLE = '198.51.100.53';

async function shimRoutes(h: LabHost): Promise<string[]> {
  const r = await h.exec(['ip', '-json', 'route', 'show', 'dev', SHIM]);
  return r.code === 0 ? (JSON.parse(r.stdout) as { dst: string }[]).map((x) => x.dst) : [];
}

async function shimAddresses(h: LabHost): Promise<string[]> {
  const r = await h.exec(['ip', '-json', 'addr', 'show', 'dev', SHIM]);
  if (r.code !== 0) return [];
  return (JSON.parse(r.stdout) as { addr_info: { local: string; prefixlen: number; family: string }[] }[])[0]!.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
}

/** One ping from inside a container: the tests that retry say so with eventually(). */
const containerPing = (h: LabHost, container: string, address: string) => containerPingTries(h, container, address, 1);

/** Polls every 10 ms until `check` holds; the time it took, or Infinity after `timeoutMs`. */
async function timeUntil(check: () => Promise<boolean>, timeoutMs: number, t0 = Date.now()): Promise<number> {
  while (Date.now() - t0 < timeoutMs) {
    if (await check()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 10));
  }
  return Number.POSITIVE_INFINITY;
}

describe.skipIf(!root)('adopting a macvlan network without an ip-range', () => {
  let lab: Lab;
  let h: LabHost;
  let dir: string;
  let w: Watcher | undefined;

  beforeAll(async () => {
    lab = await createLab({ prefix: `wad${randomBytes(3).toString('hex')}`, docker: true, ipv6: false });
    h = lab.host('h1');
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-adopt-'));
    const net = await h.dockerCli(['network', 'create', '-d', 'macvlan', '-o', 'parent=eno1', '--subnet', '198.51.100.0/24', '--gateway', '198.51.100.1', 'pinet']);
    expect(net.code, net.stderr).toBe(0);
    const run = await h.dockerCli(['run', '-d', '--network', 'pinet', '--ip', PIHOLE, '--name', 'pihole', LAB_IMAGE, 'sleep', '36000']);
    expect(run.code, run.stderr).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await w?.stop('SIGKILL');
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('plan shows the network adopted as it is, with the host address shared and a /32 per container', async () => {
    const p = await macvlanctl(h, ['plan', 'pinet', '--parent', 'eno1', '--persist', 'none', '--json'], { root: dir });
    expect(p.code, p.stderr).toBe(0);
    const n = p.json!.result.networks[0];
    expect(n.shim).toMatchObject({ interface: SHIM, address: HOST, routes: [`${PIHOLE}/32`], containerRoutes: true });
    const docker = p.json!.result.changes.find((c: { kind: string }) => c.kind === 'docker-network');
    expect(docker.action).toBe('noop');
  });

  it('apply gives host ↔ container access both ways, with no route for the whole subnet through the shim', async () => {
    // The LAN knows the host (its neighbour entry is the parent's MAC) before the shim takes the same address.
    expect((await lab.lanExec(['busybox', 'ping', '-c', '1', '-W', '1', HOST])).code).toBe(0);
    const r = await macvlanctl(h, ['apply', 'pinet', '--parent', 'eno1', '--persist', 'none', '--yes', '--json'], { root: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.result.remaining).toBe(0);
    expect(await shimAddresses(h)).toEqual([`${HOST}/32`]);
    expect(await shimRoutes(h)).toEqual([PIHOLE]);
    const all = (await h.exec(['ip', '-json', 'route', 'show'], { check: true })).stdout;
    expect((JSON.parse(all) as { dst: string; dev: string }[]).filter((x) => x.dev === SHIM && x.dst === '198.51.100.0/24')).toEqual([]);
    expect(await eventually(() => hostPing(h, PIHOLE))).toBe(true);
    expect(await eventually(() => containerPing(h, 'pihole', HOST))).toBe(true);
    // The LAN still reaches the host at its address, at the parent's MAC: the shim, sharing the address, sends
    // no gratuitous ARP for it (that would move the LAN's traffic for the host onto the shim).
    expect((await lab.lanExec(['busybox', 'ping', '-c', '1', '-W', '1', HOST])).code).toBe(0);
    const neigh = JSON.parse((await lab.lanExec(['ip', '-json', 'neigh', 'show', HOST], { check: true })).stdout) as { lladdr?: string }[];
    expect(neigh[0]?.lladdr).toBe(h.mac);
    // Docker's network is untouched: no label, no ip-range.
    const inspect = JSON.parse((await h.dockerCli(['network', 'inspect', 'pinet'])).stdout)[0];
    expect(inspect.IPAM.Config[0].IPRange ?? '').toBe('');
    expect(inspect.Labels ?? {}).toEqual({});
  });

  it('status and doctor check the per-container routes', async () => {
    const ok = await macvlanctl(h, ['status', 'pinet', '--json', '--no-reach'], { root: dir });
    expect(ok.code, ok.stdout).toBe(0);
    await h.exec(['ip', 'route', 'del', `${PIHOLE}/32`, 'dev', SHIM], { check: true });
    const s = await macvlanctl(h, ['status', 'pinet', '--json', '--no-reach'], { root: dir });
    expect(s.code).toBe(1);
    expect(s.json!.result.networks[0].problems).toContain(`route ${PIHOLE}/32 via ${SHIM} is missing`);
    const d = await macvlanctl(h, ['doctor', 'pinet', '--json', '--no-scan'], { root: dir });
    const shim = (d.json!.result.networks[0].checks as { id: string; verdict: string; detail: string }[]).find((c) => c.id === 'shim')!;
    expect(shim.verdict).toBe('fail');
    expect(shim.detail).toContain(`${PIHOLE}/32`);
  });

  it('up adds the routes of the running containers', async () => {
    await h.exec(['ip', 'link', 'del', SHIM], { check: true });
    const up = await macvlanctl(h, ['up', 'pinet', '--root', dir, '--docker-host', h.docker!.dockerHost]);
    expect(up.code, up.stderr).toBe(0);
    expect(await shimRoutes(h)).toEqual([PIHOLE]);
    expect((await macvlanctl(h, ['status', 'pinet', '--json', '--no-reach'], { root: dir })).code).toBe(0);
    const d = await macvlanctl(h, ['doctor', 'pinet', '--json', '--no-scan'], { root: dir });
    const failing = (d.json!.result.networks[0].checks as { id: string; verdict: string; detail: string }[]).filter((c) => c.verdict === 'fail');
    expect(failing, JSON.stringify(failing)).toEqual([]);
    expect(d.code).toBe(0);
  });

  it('watch: a container started later gets its /32 within a second, and the route is gone within a second of its removal', async () => {
    w = startWatch(h, ['pinet'], { root: dir });
    await w.waitFor((l) => l.event === 'docker' && l.state === 'connected', { timeoutMs: 10_000 });
    const run = await h.dockerCli(['run', '-d', '--network', 'pinet', '--ip', '198.51.100.77', '--name', 'late', LAB_IMAGE, 'sleep', '36000']);
    expect(run.code, run.stderr).toBe(0);
    const added = await timeUntil(async () => (await shimRoutes(h)).includes('198.51.100.77'), 1_000);
    expect(added).toBeLessThan(1_000);
    expect(await eventually(() => hostPing(h, '198.51.100.77'))).toBe(true);
    const rm = await h.dockerCli(['rm', '-f', 'late']);
    expect(rm.code, rm.stderr).toBe(0);
    const removed = await timeUntil(async () => !(await shimRoutes(h)).includes('198.51.100.77'), 1_000);
    expect(removed).toBeLessThan(1_000);
    expect(await shimRoutes(h)).toEqual([PIHOLE]);
    const r = await w.stop('SIGTERM');
    expect(r.code).toBe(0);
  }, 30_000);

  it('watch: docker network connect gives a running container its /32 within a second, and disconnect takes it away; the container runs on', async () => {
    let watcher: Watcher | undefined;
    let stopped: Awaited<ReturnType<Watcher['stop']>> | undefined;
    try {
      // The container lives on a second network first, so that connect and disconnect are the only events for pinet.
      const side = await h.dockerCli(['network', 'create', '-d', 'bridge', '--internal', 'side']);
      expect(side.code, side.stderr).toBe(0);
      const run = await h.dockerCli(['run', '-d', '--network', 'side', '--name', 'roamer', LAB_IMAGE, 'sleep', '36000']);
      expect(run.code, run.stderr).toBe(0);
      const since = Math.floor(Date.now() / 1000);
      watcher = startWatch(h, ['pinet'], { root: dir });
      await watcher.waitFor((l) => l.event === 'docker' && l.state === 'connected', { timeoutMs: 10_000 });
      expect(await shimRoutes(h)).toEqual([PIHOLE]);
      const connect = await h.dockerCli(['network', 'connect', '--ip', '198.51.100.78', 'pinet', 'roamer']);
      expect(connect.code, connect.stderr).toBe(0);
      expect(await timeUntil(async () => (await shimRoutes(h)).includes('198.51.100.78'), 1_000)).toBeLessThan(1_000);
      expect(await eventually(() => hostPing(h, '198.51.100.78'))).toBe(true);
      const disconnect = await h.dockerCli(['network', 'disconnect', 'pinet', 'roamer']);
      expect(disconnect.code, disconnect.stderr).toBe(0);
      expect(await timeUntil(async () => !(await shimRoutes(h)).includes('198.51.100.78'), 1_000)).toBeLessThan(1_000);
      expect(await shimRoutes(h)).toEqual([PIHOLE]);
      // A disconnect is not a lost interface: the engine was never asked to stop or restart the container
      // (a restart shows at once as a kill or stop event, long before the container is up again).
      await new Promise((r) => setTimeout(r, 500));
      const window = ['--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--format', '{{.Action}}'];
      const actions = async (...filters: string[]) => {
        const r = await h.dockerCli(['events', ...window, ...filters.flatMap((f) => ['--filter', f])]);
        expect(r.code, r.stderr).toBe(0);
        return r.stdout.split('\n').filter(Boolean);
      };
      // The window holds the engine's events (the disconnect above), and none that stops roamer.
      expect(await actions('type=network', 'event=disconnect')).not.toEqual([]);
      expect((await actions('type=container', 'container=roamer')).filter((a) => /^(kill|stop|die|restart)/.test(a))).toEqual([]);
      expect(watcher.lines.filter((l) => l.event === 'container-lost')).toEqual([]);
    } finally {
      stopped = await watcher?.stop('SIGTERM');
      await h.dockerCli(['rm', '-f', 'roamer']);
      await h.dockerCli(['network', 'rm', 'side']);
    }
    expect(stopped?.code).toBe(0);
  }, 30_000);

  it('destroy removes the shim and the record, and leaves Docker’s network and its containers alone; a running watcher does not bring the shim back', async () => {
    const watcher = startWatch(h, [], { root: dir });
    try {
      await watcher.waitFor((l) => l.event === 'docker' && l.state === 'connected', { timeoutMs: 10_000 });
      const d = await macvlanctl(h, ['destroy', 'pinet', '--yes'], { root: dir });
      expect(d.code, d.stdout + d.stderr).toBe(0);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(watcher.lines.filter((l) => l.event === 'repaired')).toEqual([]);
    } finally {
      await watcher.stop('SIGTERM');
    }
    expect((await h.exec(['ip', 'link', 'show', SHIM])).code).not.toBe(0);
    expect((await h.dockerCli(['network', 'inspect', 'pinet'])).code).toBe(0);
    expect((await h.dockerCli(['inspect', '-f', '{{.State.Running}}', 'pihole'])).stdout.trim()).toBe('true');
  });
});

describe.skipIf(!root)('adopting a dual-stack macvlan network without ip-ranges', () => {
  let lab: Lab;
  let h: LabHost;
  let dir: string;

  beforeAll(async () => {
    lab = await createLab({ prefix: `wa6${randomBytes(3).toString('hex')}`, docker: true, ipv6: true });
    h = lab.host('h1');
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-adopt6-'));
    const net = await h.dockerCli([
      'network', 'create', '-d', 'macvlan', '-o', 'parent=eno1', '--ipv6',
      '--subnet', '198.51.100.0/24', '--gateway', '198.51.100.1', '--subnet', '2001:db8:1::/64', '--gateway', '2001:db8:1::1', 'pinet',
    ]);
    expect(net.code, net.stderr).toBe(0);
    const run = await h.dockerCli(['run', '-d', '--network', 'pinet', '--ip', PIHOLE, '--ip6', '2001:db8:1::53', '--name', 'pihole', LAB_IMAGE, 'sleep', '36000']);
    expect(run.code, run.stderr).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the shim shares the host’s IPv6 address too, with a /128 per container; host ↔ container both ways over IPv6; doctor passes', async () => {
    const r = await macvlanctl(h, ['apply', 'pinet', '--parent', 'eno1', '--persist', 'none', '--yes', '--json'], { root: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.result.plan.networks[0].shim).toMatchObject({ address: HOST, address6: '2001:db8:1::24', routes: [`${PIHOLE}/32`, '2001:db8:1::53/128'] });
    const six = (await h.exec(['ip', '-6', 'route', 'show', 'dev', SHIM], { check: true })).stdout;
    expect(six).toContain('2001:db8:1::53');
    expect(six).not.toContain('2001:db8:1::/64');
    const ping6 = async (argv: string[]) => {
      for (let i = 0; i < 3; i++) if ((await h.exec(argv)).code === 0) return true;
      return false;
    };
    expect(await ping6(['busybox', 'ping', '-6', '-c', '1', '-W', '1', '2001:db8:1::53'])).toBe(true);
    let back = false;
    for (let i = 0; i < 3 && !back; i++) back = (await h.dockerCli(['exec', 'pihole', 'ping', '-6', '-c', '1', '-W', '1', '2001:db8:1::24'])).code === 0;
    expect(back).toBe(true);
    const d = await macvlanctl(h, ['doctor', 'pinet', '--json', '--no-scan'], { root: dir });
    const failing = (d.json!.result.networks[0].checks as { id: string; verdict: string }[]).filter((c) => c.verdict === 'fail');
    expect(failing, JSON.stringify(failing)).toEqual([]);
    const s = await macvlanctl(h, ['status', 'pinet', '--json', '--no-reach'], { root: dir });
    expect(s.code, s.stdout).toBe(0);
  }, 60_000);

  it('watch adds and removes a later container’s /128 as well as its /32', async () => {
    const w = startWatch(h, ['pinet'], { root: dir });
    try {
      await w.waitFor((l) => l.event === 'docker' && l.state === 'connected', { timeoutMs: 10_000 });
      const run = await h.dockerCli(['run', '-d', '--network', 'pinet', '--ip', '198.51.100.77', '--ip6', '2001:db8:1::77', '--name', 'late', LAB_IMAGE, 'sleep', '36000']);
      expect(run.code, run.stderr).toBe(0);
      const six = async () => (await h.exec(['ip', '-6', 'route', 'show', 'dev', SHIM])).stdout;
      expect(await timeUntil(async () => (await six()).includes('2001:db8:1::77') && (await shimRoutes(h)).includes('198.51.100.77'), 1_000)).toBeLessThan(1_000);
      expect((await h.dockerCli(['rm', '-f', 'late'])).code).toBe(0);
      expect(await timeUntil(async () => !(await six()).includes('2001:db8:1::77'), 1_000)).toBeLessThan(1_000);
    } finally {
      expect((await w.stop('SIGTERM')).code).toBe(0);
    }
  }, 30_000);
});
