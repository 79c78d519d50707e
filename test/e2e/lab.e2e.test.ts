// The lab itself: namespaces, a real dockerd in a host namespace, and a teardown that leaves nothing behind.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  LAB_IMAGE,
  cleanupStaleLabs,
  createLab,
  hostFingerprint,
  mountsUnder,
  netnsExists,
  netnsOfPid,
  processAlive,
  stripVolatile,
  type Lab,
} from './lab.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('lab.e2e: SKIPPED — needs root (network namespaces, dockerd). Run as root: sudo npm test');

describe('stripVolatile', () => {
  it('drops counters and timers, keeps everything else', () => {
    const raw = [{ ifname: 'eno1', stats64: { rx: 1 }, addr_info: [{ local: '198.51.100.24', valid_life_time: 5 }], linkinfo: { info_slave_data: { hold_timer: 0.1, state: 'forwarding' } } }];
    expect(stripVolatile(raw)).toEqual([{ ifname: 'eno1', addr_info: [{ local: '198.51.100.24' }], linkinfo: { info_slave_data: { state: 'forwarding' } } }]);
  });
});

describe.skipIf(!isRoot)('lab (root: network namespaces + dockerd)', () => {
  let lab: Lab | undefined;

  afterAll(async () => {
    await lab?.destroy();
  });

  it('builds a LAN with one docker host, runs a container, and tears everything down', { timeout: 180_000 }, async () => {
    lab = await createLab({ docker: true, log: (l) => console.error(l) });
    console.error(`lab ${lab.prefix} timings (ms): ${JSON.stringify(lab.timings)}`);
    const host = lab.hosts[0]!;
    const docker = host.docker!;
    expect(netnsExists(lab.lanNetns)).toBe(true);
    expect(netnsExists(host.netns)).toBe(true);
    expect(docker.apiVersion).toBe('1.41');

    // dockerd runs inside the host's network namespace, not the root one
    const hostNs = await host.exec(['readlink', '/proc/self/ns/net'], { check: true });
    expect(netnsOfPid(docker.pid)).toBe(hostNs.stdout.trim());
    expect(netnsOfPid(docker.pid)).not.toBe(netnsOfPid(process.pid));

    // the LAN works, IPv4 and IPv6, and nothing routes outside it
    const ping = await host.exec(['busybox', 'ping', '-c', '1', '-W', '2', lab.gateway]);
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    const ping6 = await host.exec(['busybox', 'ping', '-6', '-c', '1', '-W', '2', lab.gateway6!]);
    expect(ping6.code, ping6.stdout + ping6.stderr).toBe(0);
    const lanRoutes = await lab.lanExec(['ip', '-json', 'route', 'show', 'table', 'main'], { check: true });
    expect((JSON.parse(lanRoutes.stdout) as { dst: string }[]).map((r) => r.dst)).toEqual(['198.51.100.0/24']);
    const hostRoutes = await host.exec(['ip', '-json', 'route', 'show', 'table', 'main'], { check: true });
    expect(JSON.parse(hostRoutes.stdout)).toEqual([
      { dst: 'default', gateway: '198.51.100.1', dev: 'eno1', flags: [] },
      { dst: '198.51.100.0/24', dev: 'eno1', protocol: 'kernel', scope: 'link', prefsrc: '198.51.100.24', flags: [] },
    ]);

    // the docker CLI reaches the daemon through the socket
    const info = await host.dockerCli(['info', '--format', '{{.ServerVersion}} {{.Name}}'], { check: true });
    expect(info.stdout.trim()).toMatch(/^20\.10\.\S+ h1$/); // own UTS namespace: hostname = lab host name

    // a busybox container on a macvlan network on eno1 reaches the router
    const fpBefore = await hostFingerprint(host);
    await host.dockerCli(
      ['network', 'create', '-d', 'macvlan', '-o', 'parent=eno1', '--subnet', lab.cidr, '--gateway', lab.gateway, '--ip-range', '198.51.100.192/27', 'labnet'],
      { check: true },
    );
    const runRes = await host.dockerCli(['run', '-d', '--network', 'labnet', '--name', 'web', LAB_IMAGE, 'sleep', '3600'], { check: true });
    const id = runRes.stdout.trim();
    const inContainer = await host.dockerCli(['exec', 'web', 'ping', '-c', '1', '-W', '2', lab.gateway]);
    expect(inContainer.code, inContainer.stdout + inContainer.stderr).toBe(0);
    const inspect = await host.dockerApi('GET', `/containers/${id}/json`);
    expect(inspect.status).toBe(200);
    // while it runs: dockerd's mounts exist, but only in its private mount namespace
    expect(mountsUnder(lab.dir, `/proc/${docker.pid}/mountinfo`).length).toBeGreaterThan(0);
    expect(mountsUnder(lab.dir)).toEqual([]);
    // the only host-side trace of a running macvlan container is the parent's promiscuity count
    // (macvlan in bridge mode puts its lower device into promiscuous mode)
    type Fp = Record<'links' | 'addrs', { ifname: string; promiscuity: number }[]>;
    const during = JSON.parse(await hostFingerprint(host)) as Fp;
    const before = JSON.parse(fpBefore) as Fp;
    expect(during.links.find((l) => l.ifname === 'eno1')?.promiscuity).toBe(1);
    for (const l of [...during.links, ...during.addrs]) if (l.ifname === 'eno1') l.promiscuity = 0;
    expect(during).toEqual(before);
    await host.dockerCli(['rm', '-f', 'web'], { check: true });
    await host.dockerCli(['network', 'rm', 'labnet'], { check: true });
    expect(await hostFingerprint(host)).toBe(fpBefore);

    // teardown leaves nothing
    const { dir, lanNetns } = lab;
    const cgroupParent = docker.cgroupParent;
    await lab.destroy();
    await lab.destroy(); // idempotent
    console.error(`lab ${lab.prefix} destroy: ${lab.timings.destroy} ms`);
    expect(netnsExists(lanNetns)).toBe(false);
    expect(netnsExists(host.netns)).toBe(false);
    expect(processAlive(docker.pid)).toBe(false);
    expect(mountsUnder(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    const cgroupMounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => / - cgroup2? /.test(l))
      .map((l) => l.split(' ')[4]!);
    for (const m of cgroupMounts) expect(existsSync(`${m}${cgroupParent}`), `${m}${cgroupParent}`).toBe(false);
    // no process of ours is left with the lab's paths on its command line
    const leftovers = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir);
        } catch {
          return false;
        }
      });
    expect(leftovers).toEqual([]);
    lab = undefined;
  });

  it('cleans up after itself when creation fails half-way', { timeout: 60_000 }, async () => {
    const prefix = `mvlf${Date.now().toString(16).slice(-6)}`;
    // dockerd refuses an unknown flag: namespaces exist by then and must be removed again
    await expect(createLab({ prefix, docker: true, dockerdArgs: ['--no-such-flag'], dockerdTimeoutMs: 10_000 })).rejects.toThrow(/dockerd on h1/);
    expect(netnsExists(`${prefix}-lan`)).toBe(false);
    expect(netnsExists(`${prefix}-h1`)).toBe(false);
    expect(await cleanupStaleLabs(prefix)).toEqual([]);
  });

  it('cleanupStaleLabs removes namespaces a crashed run left behind, and spares live labs', { timeout: 60_000 }, async () => {
    const live = await createLab({ prefix: `mvls${Date.now().toString(16).slice(-6)}` });
    try {
      expect(await cleanupStaleLabs(live.prefix)).toEqual([]); // owner (this process) is alive
      expect(netnsExists(live.lanNetns)).toBe(true);
      const removed = await cleanupStaleLabs(live.prefix, { force: true });
      expect(removed).toEqual([live.prefix]);
      expect(netnsExists(live.lanNetns)).toBe(false);
      expect(netnsExists(live.hosts[0]!.netns)).toBe(false);
    } finally {
      await live.destroy();
    }
  });
});
