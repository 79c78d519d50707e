/**
 * apply, status and destroy against a real dockerd and real kernel
 * interfaces, in lab namespaces: the recipe's scenario end to end, idempotence,
 * drift repair, and failures that must leave the host as it was.
 */
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, type LabHost, LAB_IMAGE, createLab, hostFingerprint } from './lab.js';
import { BIN, macvlanctl } from './support/cli.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('apply e2e: SKIPPED — needs root to build network namespaces and run dockerd');

const RECIPE = ['mynet', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--aux-address', 'host=198.51.100.223'];

/** ping from inside a container (busybox) */
async function containerPing(h: LabHost, container: string, address: string): Promise<boolean> {
  const r = await h.dockerCli(['exec', container, 'ping', '-c', '1', '-W', '1', address]);
  return r.code === 0;
}

/**
 * Retries for up to `attempts` seconds. Only for the first check after apply:
 * the "before" check left the container's ARP entry for the host INCOMPLETE,
 * and the kernel re-asks only on its own 1 s retransmit timer.
 */
async function eventually(check: () => Promise<boolean>, attempts = 3): Promise<boolean> {
  for (let i = 0; i < attempts; i++) if (await check()) return true;
  return false;
}

/** ping from the host namespace; the machine may have no ping binary, busybox has one */
async function hostPing(h: LabHost, address: string): Promise<boolean> {
  const r = await h.exec(['busybox', 'ping', '-c', '1', '-W', '1', address]);
  return r.code === 0;
}

async function dockerNetworks(h: LabHost): Promise<string> {
  return (await h.dockerCli(['network', 'ls', '--format', '{{.Name}} {{.Driver}}'])).stdout;
}

async function containerAddress(h: LabHost, name: string): Promise<string> {
  const r = await h.dockerCli(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', name]);
  return r.stdout.trim();
}

describe.skipIf(!root)('apply, status, destroy in the lab', () => {
  let lab: Lab;
  let dir: string;
  beforeAll(async () => {
    lab = await createLab({ docker: true, hosts: [{ name: 'h1', address: '198.51.100.24' }, { name: 'h2', address: '198.51.100.25' }] });
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-apply-'));
  }, 120_000);
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('the recipe, end to end (h1)', () => {
    let pristine: string;
    let pristineNetworks: string;
    let web: string;

    it('before: a container on the macvlan network cannot reach its host', async () => {
      const h = lab.host('h1');
      pristine = await hostFingerprint(h);
      pristineNetworks = await dockerNetworks(h);
      const r = await macvlanctl(h, ['apply', ...RECIPE, '--no-host-access', '--yes'], { root: dir });
      expect(r.code, r.stderr + r.stdout).toBe(0);
      const run = await h.dockerCli(['run', '-d', '--network', 'mynet', '--name', 'web', LAB_IMAGE, 'sleep', '3600']);
      expect(run.code, run.stderr).toBe(0);
      web = await containerAddress(h, 'web');
      expect(web).toBe('198.51.100.192');
      expect(await containerPing(h, 'web', '198.51.100.1')).toBe(true);
      expect(await containerPing(h, 'web', '198.51.100.24')).toBe(false);
      expect(await hostPing(h, web)).toBe(false);
    });

    it('after apply: container → host, host → container and container → gateway all work', async () => {
      const h = lab.host('h1');
      const r = await macvlanctl(h, ['apply', ...RECIPE, '--yes', '--json'], { root: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.json!.result.remaining).toBe(0);
      expect(r.json!.result.applied).toContain('create shim mynet-shim');
      const recorded = JSON.parse(readFileSync(join(dir, 'var/lib/macvlanctl/mynet.json'), 'utf8'));
      expect(recorded.network.shim).toMatchObject({ interface: 'mynet-shim', address: '198.51.100.223' });
      expect(await containerPing(h, 'web', '198.51.100.223'), 'container → shim').toBe(true);
      expect(await eventually(() => containerPing(h, 'web', '198.51.100.24')), 'container → host').toBe(true);
      expect(await eventually(() => hostPing(h, web)), 'host → container').toBe(true);
      expect(await containerPing(h, 'web', '198.51.100.1'), 'container → gateway').toBe(true);
      const link = JSON.parse((await h.exec(['ip', '-json', '-details', 'link', 'show', 'mynet-shim'])).stdout)[0];
      expect(link.ifalias).toBe('macvlanctl:mynet');
      expect(link.linkinfo.info_data.mode).toBe('bridge');
      expect(link.address).toBe(r.json!.result.plan.networks[0].shim.mac);
      // only the address we gave it: no IPv6 link-local or SLAAC address on an IPv4-only network
      const addrs = JSON.parse((await h.exec(['ip', '-json', 'addr', 'show', 'dev', 'mynet-shim'])).stdout)[0].addr_info;
      expect(addrs.map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`)).toEqual(['198.51.100.223/32']);
      const routes = JSON.parse((await h.exec(['ip', '-json', 'route', 'show', 'dev', 'mynet-shim'])).stdout);
      expect(routes.map((x: { dst: string }) => x.dst)).toEqual(['198.51.100.192/27']);
    });

    it('a second apply changes nothing', async () => {
      const h = lab.host('h1');
      const before = await hostFingerprint(h);
      const nets = await dockerNetworks(h);
      const r = await macvlanctl(h, ['apply', ...RECIPE, '--yes'], { root: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/No changes/);
      expect(await hostFingerprint(h)).toBe(before);
      expect(await dockerNetworks(h)).toBe(nets);
    });

    it('status shows the network healthy, with the container reachable', async () => {
      const r = await macvlanctl(lab.host('h1'), ['status', '--json'], { root: dir });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const n = r.json!.result.networks.find((x: { name: string }) => x.name === 'mynet');
      expect(n).toMatchObject({ name: 'mynet', healthy: true, shim: { interface: 'mynet-shim', up: true, address: '198.51.100.223' } });
      expect(n.containers).toEqual([expect.objectContaining({ name: 'web', address: '198.51.100.192', reachable: true })]);
    });

    it('repairs drift: a deleted shim comes back with the same MAC, and the container reaches the host at once', async () => {
      const h = lab.host('h1');
      const arpBefore = (await h.dockerCli(['exec', 'web', 'cat', '/proc/net/arp'])).stdout;
      const shimMac = JSON.parse((await h.exec(['ip', '-json', 'link', 'show', 'mynet-shim'])).stdout)[0].address;
      expect(arpBefore).toContain(shimMac);
      await h.exec(['ip', 'link', 'del', 'mynet-shim'], { check: true });
      expect(await containerPing(h, 'web', '198.51.100.223')).toBe(false);
      const status = await macvlanctl(h, ['status', 'mynet', '--json'], { root: dir });
      expect(status.code).toBe(1);
      expect(status.json!.result.networks[0].problems.join('\n')).toMatch(/shim mynet-shim is missing/);
      const r = await macvlanctl(h, ['apply', ...RECIPE, '--yes'], { root: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse((await h.exec(['ip', '-json', 'link', 'show', 'mynet-shim'])).stdout)[0].address).toBe(shimMac);
      // the container's ARP cache still holds the shim's MAC: the first ping gets through
      expect(await containerPing(h, 'web', '198.51.100.223')).toBe(true);
      expect(await containerPing(h, 'web', '198.51.100.24')).toBe(true);
    });

    it('repairs a missing route and a downed shim', async () => {
      const h = lab.host('h1');
      await h.exec(['ip', 'route', 'del', '198.51.100.192/27', 'dev', 'mynet-shim'], { check: true });
      const plan = await macvlanctl(h, ['plan', ...RECIPE, '--json'], { root: dir });
      expect(plan.json!.result.changes.filter((c: { action: string }) => c.action !== 'noop').map((c: { kind: string }) => c.kind)).toEqual(['shim-route']);
      await h.exec(['ip', 'link', 'set', 'mynet-shim', 'down'], { check: true });
      const r = await macvlanctl(h, ['apply', ...RECIPE, '--yes'], { root: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(await hostPing(h, web)).toBe(true);
    });

    it('destroy refuses while a container is attached, then --force leaves the host as before the first apply', async () => {
      const h = lab.host('h1');
      // plan --destroy shows what goes, refuses the same way, and changes nothing (issue #11)
      const before = await hostFingerprint(h);
      const shown = await macvlanctl(h, ['plan', '--destroy', 'mynet'], { root: dir });
      expect(shown.code).toBe(1);
      expect(shown.stdout).toMatch(/^Destroy mynet$/m);
      expect(shown.stdout).toMatch(/^  - link mynet-shim\n.*198\.51\.100\.223\/32, route 198\.51\.100\.192\/27/m);
      expect(shown.stdout).toMatch(/^  - docker network mynet$/m);
      expect(shown.stderr).toMatch(/1 container\(s\) attached \(web\)/);
      const forced = await macvlanctl(h, ['plan', '--destroy', 'mynet', '--force', '--show-commands', '--json'], { root: dir });
      expect(forced.code, forced.stderr).toBe(0);
      const changes = forced.json!.result.changes as { kind: string; action: string; path?: string; disconnect?: { name: string }[] }[];
      expect(changes.every((c) => c.action === 'delete')).toBe(true);
      expect(changes.map((c) => c.kind)).toEqual(expect.arrayContaining(['shim-link', 'docker-network', 'persist-file', 'record']));
      expect(changes.find((c) => c.kind === 'docker-network')!.disconnect!.map((c) => c.name)).toEqual(['web']);
      expect(forced.json!.result.commands).toEqual(expect.arrayContaining(['docker network disconnect -f mynet web', 'ip link del dev mynet-shim', 'docker network rm mynet']));
      expect(await hostFingerprint(h)).toBe(before);
      expect(existsSync(join(dir, 'var/lib/macvlanctl/mynet.json'))).toBe(true);
      const refused = await macvlanctl(h, ['destroy', 'mynet', '--yes', '--json'], { root: dir });
      expect(refused.code).toBe(1);
      expect(refused.json!.error!.message).toMatch(/1 container\(s\) attached \(web\)/);
      const r = await macvlanctl(h, ['destroy', 'mynet', '--yes', '--force'], { root: dir });
      expect(r.code, r.stderr).toBe(0);
      await h.dockerCli(['rm', '-f', 'web']);
      expect(existsSync(join(dir, 'var/lib/macvlanctl/mynet.json'))).toBe(false);
      expect(await hostFingerprint(h)).toBe(pristine);
      expect(await dockerNetworks(h)).toBe(pristineNetworks);
    });
  });

  describe('failures leave the host as it was (h2)', () => {
    it('refuses to act without --yes when there is no terminal', async () => {
      const h = lab.host('h2');
      const before = await hostFingerprint(h);
      const r = await macvlanctl(h, ['apply', ...RECIPE], { root: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/pass --yes/);
      expect(await hostFingerprint(h)).toBe(before);
    });

    it('a shim name taken by an interface that is not ours', async () => {
      const h = lab.host('h2');
      await h.exec(['ip', 'link', 'add', 'mynet-shim', 'type', 'veth', 'peer', 'name', 'intruder0'], { check: true });
      try {
        const before = await hostFingerprint(h);
        const r = await macvlanctl(h, ['apply', ...RECIPE, '--yes', '--json'], { root: dir });
        expect(r.code).toBe(2);
        expect(r.json!.error!.message).toMatch(/mynet-shim already exists and is not a macvlanctl shim/);
        expect(await hostFingerprint(h)).toBe(before);
        expect(existsSync(join(dir, 'run', 'macvlanctl')), 'the lock leaves no directory behind').toBe(false);
        expect(await dockerNetworks(h)).not.toMatch(/mynet/);
      } finally {
        await h.exec(['ip', 'link', 'del', 'mynet-shim']);
      }
    });

    it('a route to the range that already goes elsewhere', async () => {
      const h = lab.host('h2');
      await h.exec(['ip', 'route', 'add', '198.51.100.192/27', 'via', '198.51.100.1'], { check: true });
      try {
        const before = await hostFingerprint(h);
        const r = await macvlanctl(h, ['apply', ...RECIPE, '--yes', '--json'], { root: dir });
        expect(r.code).toBe(2);
        expect(r.json!.error!.message).toMatch(/the route to 198\.51\.100\.192\/27 via eno1 \(gateway 198\.51\.100\.1\) already exists and is the ip-range/);
        expect(await hostFingerprint(h)).toBe(before);
      } finally {
        await h.exec(['ip', 'route', 'del', '198.51.100.192/27']);
      }
    });

    it('a step failing half-way is rolled back: shim and Docker network gone', async () => {
      const h = lab.host('h2');
      // An interface nobody marked as ours holds the MAC the shim must have: the
      // kernel refuses to bring a second macvlan with that MAC up (EADDRINUSE).
      const plan = await macvlanctl(h, ['plan', ...RECIPE, '--json'], { root: dir });
      const mac = plan.json!.result.networks[0].shim.mac;
      await h.exec(['ip', 'link', 'add', 'squat0', 'link', 'eno1', 'address', mac, 'type', 'macvlan', 'mode', 'bridge'], { check: true });
      await h.exec(['ip', 'link', 'set', 'squat0', 'up'], { check: true });
      try {
        const before = await hostFingerprint(h);
        const nets = await dockerNetworks(h);
        const r = await macvlanctl(h, ['apply', ...RECIPE, '--yes', '--json'], { root: dir });
        expect(r.code).toBe(1);
        expect(r.json!.error!.code).toBe('APPLY_FAILED');
        expect(r.json!.error!.message).toMatch(/bring mynet-shim up/);
        expect(r.json!.error!.message).toMatch(/the host is as it was/);
        expect(r.stderr).toMatch(/↺ remove Docker network mynet/);
        expect(await hostFingerprint(h)).toBe(before);
        expect(await dockerNetworks(h)).toBe(nets);
      } finally {
        await h.exec(['ip', 'link', 'del', 'squat0']);
      }
    });

    it('a held lock makes a second apply wait, then name the holder', async () => {
      const h = lab.host('h2');
      const lockRoot = mkdtempSync(join(tmpdir(), 'macvlanctl-lock-'));
      try {
        mkdirSync(join(lockRoot, 'run', 'macvlanctl'), { recursive: true });
        // held by this (live) test process
        writeFileSync(join(lockRoot, 'run', 'macvlanctl', 'apply.lock'), JSON.stringify({ pid: process.pid, command: 'apply other', since: 'now' }));
        const started = Date.now();
        const r = await macvlanctl(h, ['apply', ...RECIPE, '--yes', '--lock-wait', '1', '--json'], { root: lockRoot });
        expect(r.code).toBe(1);
        expect(r.json!.error!.code).toBe('LOCKED');
        expect(r.json!.error!.message).toMatch(new RegExp(`pid ${process.pid}, apply other`));
        expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      } finally {
        rmSync(lockRoot, { recursive: true, force: true });
      }
    });

    it('two applies at once: one does the work, the other waits and finds nothing to do', async () => {
      const h = lab.host('h2');
      const [a, b] = await Promise.all([
        macvlanctl(h, ['apply', ...RECIPE, '--yes', '--json'], { root: dir }),
        macvlanctl(h, ['apply', ...RECIPE, '--yes', '--json'], { root: dir }),
      ]);
      expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
      expect([a.json!.result.changed, b.json!.result.changed].sort()).toEqual([false, true]);
      const d = await macvlanctl(h, ['destroy', 'mynet', '--yes'], { root: dir });
      expect(d.code, d.stderr).toBe(0);
    });

    it('announces the shim by gratuitous ARP: the router learns its MAC without any traffic to it', async () => {
      const h = lab.host('h2');
      // arp_accept=1: the router records addresses announced by gratuitous ARP
      await lab.lanExec(['sysctl', '-q', '-w', 'net.ipv4.conf.all.arp_accept=1', 'net.ipv4.conf.br0.arp_accept=1'], { check: true });
      await lab.lanExec(['ip', 'neigh', 'flush', 'to', '198.51.100.223']);
      const r = await macvlanctl(h, ['apply', ...RECIPE, '--yes', '--json'], { root: dir });
      expect(r.code, r.stderr).toBe(0);
      const mac = r.json!.result.plan.networks[0].shim.mac;
      let learned = '';
      for (let i = 0; i < 20 && !learned.includes(mac); i++) {
        learned = (await lab.lanExec(['ip', 'neigh', 'show', 'to', '198.51.100.223'])).stdout;
        await new Promise((res) => setTimeout(res, 50));
      }
      expect(learned).toContain(mac);
      expect((await macvlanctl(h, ['destroy', 'mynet', '--yes'], { root: dir })).code).toBe(0);
    });

    it('a Docker network with other settings is left alone without --replace, replaced with it', async () => {
      const h = lab.host('h2');
      expect((await macvlanctl(h, ['apply', ...RECIPE, '--no-host-access', '--yes'], { root: dir })).code).toBe(0);
      const other = ['mynet', '--parent', 'eno1', '--ip-range', '198.51.100.160/27', '--aux-address', 'host=198.51.100.191'];
      const before = await hostFingerprint(h);
      const refused = await macvlanctl(h, ['apply', ...other, '--yes', '--json'], { root: dir });
      expect(refused.code).toBe(1);
      expect(refused.json!.error!.code).toBe('DOCKER_CONFLICT');
      expect(refused.json!.error!.message).toMatch(/ip-range 198\.51\.100\.192\/27 ≠ 198\.51\.100\.160\/27.*pass --replace/);
      expect(await hostFingerprint(h)).toBe(before);
      // plan says the same before anything is tried: -/+ with the refusal without --replace, a replace with it (issue #11)
      const planned = await macvlanctl(h, ['plan', ...other], { root: dir });
      expect(planned.code).toBe(1);
      expect(planned.stdout).toMatch(/^  -\/\+ docker network mynet/m);
      expect(planned.stderr).toMatch(/DOCKER_CONFLICT|pass --replace/);
      const plannedReplace = await macvlanctl(h, ['plan', ...other, '--replace', '--show-commands', '--json'], { root: dir });
      expect(plannedReplace.code, plannedReplace.stderr).toBe(0);
      const change = plannedReplace.json!.result.changes.find((c: { kind: string }) => c.kind === 'docker-network');
      expect(change).toMatchObject({ action: 'replace', before: { body: { Name: 'mynet' } }, after: { Name: 'mynet' } });
      expect(plannedReplace.json!.result.commands.slice(0, 2).map((l: string) => l.split(' ').slice(0, 3).join(' '))).toEqual(['docker network rm', 'docker network create']);
      expect(await hostFingerprint(h)).toBe(before);
      const replaced = await macvlanctl(h, ['apply', ...other, '--yes', '--replace', '--json'], { root: dir });
      expect(replaced.code, replaced.stderr).toBe(0);
      const range = await h.dockerCli(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.IPRange}}{{end}}', 'mynet']);
      expect(range.stdout.trim()).toBe('198.51.100.160/27');
      expect((await macvlanctl(h, ['destroy', 'mynet', '--yes'], { root: dir })).code).toBe(0);
    });

    it('without CAP_NET_ADMIN, apply says what is missing and changes nothing', async () => {
      const h = lab.host('h2');
      const before = await hostFingerprint(h);
      const r = await h.exec(['setpriv', '--bounding-set', '-net_admin', '--', process.execPath, BIN, 'apply', ...RECIPE, '--yes', '--docker-host', h.docker!.dockerHost, '--root', dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/needs the CAP_NET_ADMIN capability/);
      expect(await hostFingerprint(h)).toBe(before);
      expect(await dockerNetworks(h)).not.toMatch(/mynet/);
    });

    it('the engine stopped: a clear error and nothing changed', async () => {
      const h = lab.host('h2');
      const before = await hostFingerprint(h);
      process.kill(h.docker!.pid, 'SIGTERM');
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(h.docker!.pid, 0);
          await new Promise((r) => setTimeout(r, 100));
        } catch {
          break;
        }
      }
      const r = await macvlanctl(h, ['apply', ...RECIPE, '--yes', '--json'], { root: dir });
      expect(r.code).toBe(1);
      expect(r.json!.error!.code).toBe('DOCKER_UNAVAILABLE');
      expect(r.json!.error!.message).toMatch(/is not reachable/);
      expect(await hostFingerprint(h)).toBe(before);
    });
  });
});
