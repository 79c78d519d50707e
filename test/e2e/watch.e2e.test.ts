/**
 * `macvlanctl watch` against a real kernel and dockerd in lab namespaces
 * (issue 12): with the watcher running, each breakage is healed without
 * anyone running apply — the shim deleted, its route deleted, the parent
 * down and up, the parent deleted and re-created (the kernel deletes the shim
 * and the container's interface with it), dockerd restarted under it — and
 * SIGTERM ends it with exit 0 within a second.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, type LabHost, LAB_IMAGE, bounceParent, createLab, deleteLink, deleteRoute, recreateParent } from './lab.js';
import { macvlanctl } from './support/cli.js';
import { type Watcher, type WatchLine, startWatch } from './support/watcher.js';
import { containerPing as containerPingTries, eventually, hostPing } from './support/host-probes.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('watch e2e: SKIPPED — needs root to build network namespaces and run dockerd');

const RECIPE = ['mynet', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--aux-address', 'host=198.51.100.223', '--persist', 'none'];
const SHIM = 'mynet-shim';
const RANGE = '198.51.100.192/27';
const WEB = '198.51.100.200';

interface IpLink {
  ifname: string;
  address: string;
  flags: string[];
}

async function shimLink(h: LabHost): Promise<IpLink | undefined> {
  const r = await h.exec(['ip', '-json', 'link', 'show', SHIM]);
  return r.code === 0 ? (JSON.parse(r.stdout) as IpLink[])[0] : undefined;
}

async function shimRoutes(h: LabHost): Promise<string[]> {
  const r = await h.exec(['ip', '-json', 'route', 'show', 'dev', SHIM]);
  return r.code === 0 ? (JSON.parse(r.stdout) as { dst: string }[]).map((x) => x.dst) : [];
}

/** One ping from inside a container: the tests that retry say so with eventually(). */
const containerPing = (h: LabHost, container: string, address: string) => containerPingTries(h, container, address, 1);

const repairedOf = (network: string) => (l: WatchLine) => l.event === 'repaired' && l.network === network;

describe.skipIf(!root)('macvlanctl watch in the lab', () => {
  let lab: Lab;
  let h: LabHost;
  let dir: string;
  let w: Watcher;
  let shimMac: string;

  beforeAll(async () => {
    lab = await createLab({ prefix: `wch${randomBytes(3).toString('hex')}`, docker: true, ipv6: false });
    h = lab.host('h1');
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-watch-'));
    const r = await macvlanctl(h, ['apply', ...RECIPE, '--yes', '--json'], { root: dir });
    expect(r.code, r.stderr).toBe(0);
    shimMac = r.json!.result.plan.networks[0].shim.mac;
    const run = await h.dockerCli(['run', '-d', '--restart', 'always', '--network', 'mynet', '--ip', WEB, '--name', 'web', LAB_IMAGE, 'sleep', '36000']);
    expect(run.code, run.stderr).toBe(0);
    w = startWatch(h, [], { root: dir });
    await w.waitFor((l) => l.event === 'watching', { timeoutMs: 10_000 });
    await w.waitFor((l) => l.event === 'docker' && l.state === 'connected', { timeoutMs: 10_000 });
  }, 180_000);

  afterAll(async () => {
    await w?.stop('SIGKILL');
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts quiet on a healthy host: it reports the networks it watches and repairs nothing', async () => {
    expect(w.lines.find((l) => l.event === 'watching')).toMatchObject({ networks: ['mynet'], docker: true });
    expect(w.lines.filter((l) => l.event === 'repaired')).toEqual([]);
  });

  it('shim deleted → back within a second, with its MAC, address and route; host ↔ container again', async () => {
    const from = w.lines.length;
    const t0 = Date.now();
    await deleteLink(h, SHIM);
    const line = await w.waitFor(repairedOf('mynet'), { from, timeoutMs: 1_000 });
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(line.found).toEqual(expect.arrayContaining([expect.stringMatching(/mynet-shim does not exist/)]));
    expect(line.done).toEqual(expect.arrayContaining([`create shim ${SHIM}`, `route ${RANGE} via ${SHIM}`]));
    const link = await shimLink(h);
    expect(link?.address).toBe(shimMac);
    expect(link?.flags).toContain('UP');
    expect(await shimRoutes(h)).toContain(RANGE);
    expect(await eventually(() => hostPing(h, WEB))).toBe(true);
    expect(await eventually(() => containerPing(h, 'web', '198.51.100.24'))).toBe(true);
  });

  it('route deleted → back within a second', async () => {
    const from = w.lines.length;
    await deleteRoute(h, RANGE, SHIM);
    const line = await w.waitFor(repairedOf('mynet'), { from, timeoutMs: 1_000 });
    expect(line.done).toEqual([`route ${RANGE} via ${SHIM}`]);
    expect(await shimRoutes(h)).toContain(RANGE);
  });

  it('parent down and up → nothing to repair: the shim follows its parent’s carrier and keeps its route', async () => {
    const from = w.lines.length;
    await bounceParent(lab, h);
    await new Promise((r) => setTimeout(r, 500));
    expect(w.lines.slice(from).filter((l) => l.event !== 'docker')).toEqual([]);
    expect((await shimLink(h))?.flags).toContain('UP');
    expect(await shimRoutes(h)).toContain(RANGE);
    expect(await eventually(() => hostPing(h, WEB))).toBe(true);
  });

  it('parent deleted and re-created → the watcher waits for it, then the shim is back, the container restarted, host ↔ container both ways', async () => {
    const from = w.lines.length;
    await recreateParent(lab, h, { pauseMs: 500 });
    await w.waitFor((l) => l.event === 'waiting' && l.network === 'mynet', { from, timeoutMs: 2_000 });
    await w.waitFor(repairedOf('mynet'), { from, timeoutMs: 3_000 });
    // `docker restart` stops the container first: busybox sleep as PID 1 ignores SIGTERM, so that takes its 10 s.
    const restarted = await w.waitFor((l) => l.event === 'container-lost', { from, timeoutMs: 20_000 });
    expect(restarted).toMatchObject({ network: 'mynet', container: 'web', action: 'restarted' });
    expect((await shimLink(h))?.address).toBe(shimMac);
    expect(await eventually(() => hostPing(h, WEB), 5)).toBe(true);
    expect(await eventually(() => containerPing(h, 'web', '198.51.100.24'), 5)).toBe(true);
    expect(await eventually(() => containerPing(h, 'web', '198.51.100.223'), 5)).toBe(true);
  }, 45_000);

  it('dockerd restarted under it → it says the engine went, reconnects, and still heals', async () => {
    const from = w.lines.length;
    await lab.restartDocker('h1');
    await w.waitFor((l) => l.event === 'docker' && l.state === 'lost', { from, timeoutMs: 10_000 });
    await w.waitFor((l) => l.event === 'docker' && l.state === 'connected', { from, timeoutMs: 15_000 });
    const again = w.lines.length;
    await deleteLink(h, SHIM);
    await w.waitFor(repairedOf('mynet'), { from: again, timeoutMs: 1_000 });
  }, 60_000);

  it('down is left down (said once) until up, then watched again', async () => {
    const from = w.lines.length;
    const down = await macvlanctl(h, ['down', 'mynet', '--root', dir]);
    expect(down.code, down.stderr).toBe(0);
    await w.waitFor((l) => l.event === 'down' && l.network === 'mynet', { from, timeoutMs: 2_000 });
    await new Promise((r) => setTimeout(r, 500));
    expect(await shimLink(h)).toBeUndefined();
    expect(w.lines.slice(from).filter((l) => l.event === 'repaired')).toEqual([]);
    const up = await macvlanctl(h, ['up', 'mynet', '--root', dir]);
    expect(up.code, up.stderr).toBe(0);
    const again = w.lines.length;
    await deleteLink(h, SHIM);
    await w.waitFor(repairedOf('mynet'), { from: again, timeoutMs: 1_000 });
  });

  it('SIGTERM → exit 0 within a second, and it says it stopped', async () => {
    const r = await w.stop('SIGTERM');
    expect(r.code, w.stderr()).toBe(0);
    expect(r.ms).toBeLessThan(1_000);
    expect(w.lines.at(-1)).toMatchObject({ event: 'stopped', signal: 'SIGTERM' });
  });

  it('--no-restart-containers: a container that lost its interface is reported, not restarted', async () => {
    const quiet = startWatch(h, ['--no-restart-containers'], { root: dir });
    try {
      await quiet.waitFor((l) => l.event === 'docker' && l.state === 'connected', { timeoutMs: 10_000 });
      const started = (await h.dockerCli(['inspect', '-f', '{{.State.StartedAt}}', 'web'])).stdout.trim();
      const from = quiet.lines.length;
      await recreateParent(lab, h);
      await quiet.waitFor(repairedOf('mynet'), { from, timeoutMs: 3_000 });
      const lost = await quiet.waitFor((l) => l.event === 'container-lost', { from, timeoutMs: 5_000 });
      expect(lost).toMatchObject({ network: 'mynet', container: 'web', action: 'reported' });
      expect((await h.dockerCli(['inspect', '-f', '{{.State.StartedAt}}', 'web'])).stdout.trim()).toBe(started);
    } finally {
      expect((await quiet.stop('SIGTERM')).code).toBe(0);
    }
  }, 30_000);
});

describe.skipIf(!root)('macvlanctl watch without an engine', () => {
  let lab: Lab;
  let dir: string;

  beforeAll(async () => {
    lab = await createLab({ prefix: `wcn${randomBytes(3).toString('hex')}`, docker: true, ipv6: false });
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-watch-'));
    const r = await macvlanctl(lab.host('h1'), ['apply', ...RECIPE, '--yes'], { root: dir });
    expect(r.code, r.stderr).toBe(0);
  }, 180_000);
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('waits for a missing engine and heals the host side meanwhile; a named network without a record is refused (NOT_FOUND)', async () => {
    const h = lab.host('h1');
    const w = startWatch(h, ['mynet'], { root: dir, dockerHost: `unix://${dir}/no-such.sock` });
    try {
      await w.waitFor((l) => l.event === 'docker' && l.state === 'lost', { timeoutMs: 10_000 });
      const from = w.lines.length;
      await deleteLink(h, SHIM);
      await w.waitFor(repairedOf('mynet'), { from, timeoutMs: 1_000 });
      // Waiting is quiet: one report of the missing engine, not one per retry.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(w.lines.filter((l) => l.event === 'docker')).toHaveLength(1);
    } finally {
      const r = await w.stop('SIGINT');
      expect(r.code).toBe(0);
      expect(r.ms).toBeLessThan(1_000);
    }
    const none = await macvlanctl(h, ['watch', 'nosuch', '--root', dir]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no record of network nosuch/);
  }, 30_000);
});
