/**
 * A Compose project end to end with the real Compose (Debian's docker-compose
 * 1.29.2) against the lab's dockerd 20.10: macvlanctl creates the network
 * under Compose's name and labels, `docker-compose up` adopts it, host and
 * container reach each other, `down`/`up` re-create it and macvlanctl keeps
 * up; then an `external: true` network that macvlanctl only gives host access.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExecResult, type Lab, type LabHost, LAB_IMAGE, createLab } from './lab.js';
import { macvlanctl } from './support/cli.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('compose e2e: SKIPPED — needs root to build network namespaces and run dockerd');

const COMPOSE_FILE = `# a Pi-hole-like service on the LAN, with the host able to reach it
services:
  web:
    image: ${LAB_IMAGE}
    command: [sleep, '3600']
    networks: [lan]
  dns:
    image: ${LAB_IMAGE}
    command: [sleep, '3600']
    networks:
      lan:
        ipv4_address: 198.51.100.8
networks:
  lan:
    driver: macvlan
    driver_opts:
      parent: \${LAN_IF}
    ipam:
      config:
        - subnet: \${LAN_NET:-198.51.100}.0/24
          gateway: 198.51.100.1
          ip_range: 198.51.100.192/27
          aux_addresses:
            host: 198.51.100.223
`;

// Compose 1.29 refuses any key but external: on an external network, so the settings sit at the top level.
const EXTERNAL_FILE = `services:
  app:
    image: ${LAB_IMAGE}
    command: [sleep, '3600']
    networks: [byhand]
networks:
  byhand:
    external: true
x-macvlanctl:
  networks:
    byhand:
      host_access: true
`;

async function compose(h: LabHost, file: string, args: string[]): Promise<ExecResult> {
  return h.exec(['docker-compose', '--ansi', 'never', '-f', file, ...args], {
    timeoutMs: 120_000,
    env: { PATH: process.env.PATH, HOME: process.env.HOME ?? '/root', DOCKER_HOST: h.docker!.dockerHost },
  });
}

async function containerPing(h: LabHost, container: string, address: string): Promise<boolean> {
  return (await h.dockerCli(['exec', container, 'ping', '-c', '1', '-W', '1', address])).code === 0;
}

async function hostPing(h: LabHost, address: string): Promise<boolean> {
  return (await h.exec(['busybox', 'ping', '-c', '1', '-W', '1', address])).code === 0;
}

async function eventually(check: () => Promise<boolean>, attempts = 3): Promise<boolean> {
  for (let i = 0; i < attempts; i++) if (await check()) return true;
  return false;
}

async function inspectNetwork(h: LabHost, name: string): Promise<any | undefined> {
  const r = await h.dockerCli(['network', 'inspect', name]);
  return r.code === 0 ? JSON.parse(r.stdout)[0] : undefined;
}

async function containerAddress(h: LabHost, name: string): Promise<string> {
  return (await h.dockerCli(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', name])).stdout.trim();
}

describe.skipIf(!root)('a Compose project with the real docker-compose 1.29 in the lab', () => {
  let lab: Lab;
  let dir: string;
  let stateRoot: string;
  let file: string;
  beforeAll(async () => {
    lab = await createLab({ prefix: `gcmp${randomBytes(3).toString('hex')}`, docker: true, ipv6: false, hosts: [{ name: 'h1', address: '198.51.100.24' }] });
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-compose-'));
    stateRoot = join(dir, 'root');
    mkdirSync(stateRoot);
    // A directory name that Compose normalises: Home_Lab → project home_lab.
    mkdirSync(join(dir, 'Home_Lab'));
    file = join(dir, 'Home_Lab', 'docker-compose.yml');
    writeFileSync(file, COMPOSE_FILE);
    // Both Compose and macvlanctl expand \${LAN_IF} from the .env file beside the Compose file.
    writeFileSync(join(dir, 'Home_Lab', '.env'), 'LAN_IF=eno1\n');
  }, 180_000);
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 90_000);

  it('names the network as Compose would: directory, -p, COMPOSE_PROJECT_NAME, name:', async () => {
    const h = lab.host('h1');
    const names = async (args: string[], env?: Record<string, string>) => {
      const r = env
        ? await h.exec([process.execPath, join(import.meta.dirname, '..', '..', 'bin', 'macvlanctl'), 'plan', ...args, '--json', '--no-scan', '--docker-host', h.docker!.dockerHost, '--root', stateRoot], {
            env: { ...process.env, NO_COLOR: '1', ...env },
          })
        : await macvlanctl(h, ['plan', ...args, '--json'], { root: stateRoot });
      const doc = JSON.parse(r.stdout);
      expect(doc.ok, r.stdout + r.stderr).toBe(true);
      return doc.result.networks.map((n: { name: string }) => n.name);
    };
    expect(await names(['-f', file])).toEqual(['home_lab_lan']);
    expect(await names(['-f', file, '-p', 'other'])).toEqual(['other_lan']);
    expect(await names(['-f', file], { COMPOSE_PROJECT_NAME: 'fromenv' })).toEqual(['fromenv_lan']);
    const named = join(dir, 'Home_Lab', 'named.yml');
    writeFileSync(named, `name: My-Stack\n${COMPOSE_FILE}`);
    expect(await names(['-f', named])).toEqual(['my-stack_lan']);
    // and docker-compose itself agrees on the directory's project name
    const config = await compose(h, file, ['config', '--services']);
    expect(config.code, config.stderr).toBe(0);
  }, 90_000);

  it('refuses a -p Compose would refuse, and a directory name that normalises to nothing: exit 2, nothing changed', async () => {
    const h = lab.host('h1');
    const bad = await macvlanctl(h, ['apply', '-f', file, '-p', 'Bad Name', '--yes', '--json'], { root: stateRoot });
    expect(bad.code).toBe(2);
    expect(bad.json!.error!.message).toMatch(/^-p\/--project-name: project name 'Bad Name' is not valid/);
    mkdirSync(join(dir, '__'));
    const empty = join(dir, '__', 'compose.yml');
    writeFileSync(empty, COMPOSE_FILE);
    writeFileSync(join(dir, '__', '.env'), 'LAN_IF=eno1\n');
    const r = await macvlanctl(h, ['apply', '-f', empty, '--yes', '--json'], { root: stateRoot });
    expect(r.code).toBe(2);
    expect(r.json!.error!.message).toMatch(/has no letter or digit left once Compose normalises it/);
    expect((await h.dockerCli(['network', 'ls', '--filter', 'driver=macvlan', '-q'])).stdout.trim()).toBe('');
  }, 90_000);

  it('apply creates home_lab_lan with Compose’s labels and exactly the file’s driver options', async () => {
    const h = lab.host('h1');
    const r = await macvlanctl(h, ['apply', '-f', file, '--yes', '--json'], { root: stateRoot });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const net = await inspectNetwork(h, 'home_lab_lan');
    expect(net.Labels).toMatchObject({ 'com.docker.compose.project': 'home_lab', 'com.docker.compose.network': 'lan', 'io.macvlanctl.managed': 'true' });
    expect(net.Labels['com.docker.compose.config-hash']).toBeUndefined();
    expect(net.Options).toEqual({ parent: 'eno1' });
    expect(r.json!.result.plan.networks[0].shim.routes).toEqual(['198.51.100.192/27', '198.51.100.8/32']);
  }, 90_000);

  let web: string;
  it('docker-compose up -d adopts it; the container is in the ip-range; host and container reach each other', async () => {
    const h = lab.host('h1');
    const id = (await inspectNetwork(h, 'home_lab_lan')).Id;
    const up = await compose(h, file, ['up', '-d']);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(up.stderr).not.toMatch(/Creating network/);
    expect((await inspectNetwork(h, 'home_lab_lan')).Id).toBe(id);
    web = await containerAddress(h, 'home_lab_web_1');
    expect(web).toMatch(/^198\.51\.100\.(19[2-9]|2[01][0-9]|22[0-2])$/);
    expect(await eventually(() => containerPing(h, 'home_lab_web_1', '198.51.100.24')), 'container → host').toBe(true);
    expect(await eventually(() => hostPing(h, web)), 'host → container').toBe(true);
    // a service's fixed address outside the ip-range: reached through its own /32 route via the shim
    expect(await containerAddress(h, 'home_lab_dns_1')).toBe('198.51.100.8');
    expect(await eventually(() => hostPing(h, '198.51.100.8')), 'host → fixed-address container').toBe(true);
  }, 90_000);

  it('after docker-compose down, status says the network is gone and how it comes back (exit 1)', async () => {
    const h = lab.host('h1');
    const down = await compose(h, file, ['down']);
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect(await inspectNetwork(h, 'home_lab_lan')).toBeUndefined();
    const s = await macvlanctl(h, ['status', 'home_lab_lan', '--json'], { root: stateRoot });
    expect(s.code, s.stdout + s.stderr).toBe(1);
    expect(s.json!.result.networks[0].problems.join('\n')).toMatch(/the Docker network home_lab_lan is gone .*`docker compose up` re-creates it from the file/);
    // doctor says the same, and names docker compose up (not apply) as the fix
    const d = await macvlanctl(h, ['doctor', 'home_lab_lan', '--json', '--no-scan'], { root: stateRoot });
    expect(d.code, d.stdout + d.stderr).toBe(1);
    const settings = (d.json!.result.networks[0].checks as { id: string; verdict: string; detail: string; fix?: string }[]).find((c) => c.id === 'docker-settings')!;
    expect(settings).toMatchObject({ verdict: 'fail', detail: expect.stringMatching(/is gone .*`docker compose up` re-creates it from the file/), fix: expect.stringMatching(/^run docker compose up -d/) });
  }, 90_000);

  it('docker-compose up -d re-creates it; status is healthy; apply adopts it with no change', async () => {
    const h = lab.host('h1');
    const up = await compose(h, file, ['up', '-d']);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const s = await macvlanctl(h, ['status', 'home_lab_lan', '--json'], { root: stateRoot });
    expect(s.code, s.stdout + s.stderr).toBe(0);
    // each container with its Compose project and service
    expect(s.json!.result.networks[0].containers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'home_lab_web_1', compose: { project: 'home_lab', service: 'web' } }),
        expect.objectContaining({ name: 'home_lab_dns_1', address: '198.51.100.8', compose: { project: 'home_lab', service: 'dns' } }),
      ]),
    );
    // doctor: the network Compose re-created from the file is as recorded (no --replace advice)
    const d = await macvlanctl(h, ['doctor', 'home_lab_lan', '--json', '--no-scan'], { root: stateRoot });
    const settings = (d.json!.result.networks[0].checks as { id: string; verdict: string; detail: string }[]).find((c) => c.id === 'docker-settings')!;
    expect(settings, d.stdout + d.stderr).toMatchObject({ verdict: 'pass', detail: expect.stringContaining('made by Compose for project home_lab') });
    const human = await macvlanctl(h, ['status', 'home_lab_lan'], { root: stateRoot });
    expect(human.stdout).toContain('(Compose home_lab/web)');
    const a = await macvlanctl(h, ['apply', '-f', file, '--yes', '--json'], { root: stateRoot });
    expect(a.code, a.stdout + a.stderr).toBe(0);
    const change = a.json!.result.plan.changes.find((c: { kind: string }) => c.kind === 'docker-network');
    expect(change).toMatchObject({ action: 'noop' });
    expect(change.reason).toMatch(/adopted/);
    web = await containerAddress(h, 'home_lab_web_1');
    expect(await eventually(() => hostPing(h, web)), 'host → container').toBe(true);
  }, 90_000);

  it('destroy removes the shim; docker-compose down removes the network', async () => {
    const h = lab.host('h1');
    const d = await macvlanctl(h, ['destroy', 'home_lab_lan', '--yes', '--force'], { root: stateRoot });
    expect(d.code, d.stdout + d.stderr).toBe(0);
    const links = JSON.parse((await h.exec(['ip', '-json', '-details', 'link', 'show'])).stdout) as { ifalias?: string }[];
    expect(links.filter((l) => l.ifalias === 'macvlanctl:home_lab_lan')).toEqual([]);
    const down = await compose(h, file, ['down']);
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect(await inspectNetwork(h, 'home_lab_lan')).toBeUndefined();
  }, 90_000);

  it('an incomplete file: COMPOSE_FILE_INCOMPLETE; down + up loses the range until apply --write-compose adds the lines', async () => {
    const h = lab.host('h1');
    mkdirSync(join(dir, 'media'));
    const partial = join(dir, 'media', 'compose.yml');
    const text = `services:\n  web:\n    image: ${LAB_IMAGE}\n    command: [sleep, '3600']\n    networks: [lan]\nnetworks:\n  lan:  # the LAN\n    driver: macvlan\n    driver_opts:\n      parent: eno1\n    ipam:\n      config:\n        - subnet: 198.51.100.0/24\n          gateway: 198.51.100.1\n`;
    writeFileSync(partial, text);
    const p = await macvlanctl(h, ['plan', '-f', partial, '--json'], { root: stateRoot });
    expect(p.code, p.stderr).toBe(0);
    const warning = p.json!.result.warnings.find((w: { code: string }) => w.code === 'COMPOSE_FILE_INCOMPLETE');
    const n = p.json!.result.networks[0];
    expect(warning.fix).toContain(`ip_range: ${n.ipRange}`);
    // Applied without the lines, Compose takes the network, but down + up re-creates it from the file:
    // no ip-range and no reserved shim address any more.
    const first = await macvlanctl(h, ['apply', '-f', partial, '--yes'], { root: stateRoot });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    for (const step of [['up', '-d'], ['down'], ['up', '-d']]) expect((await compose(h, partial, step)).code).toBe(0);
    const lost = (await inspectNetwork(h, 'media_lan')).IPAM.Config[0];
    expect(lost.IPRange ?? '').toBe('');
    expect(lost.AuxiliaryAddresses ?? {}).toEqual({});
    expect((await compose(h, partial, ['down'])).code).toBe(0);
    const a = await macvlanctl(h, ['apply', '-f', partial, '--write-compose', '--yes'], { root: stateRoot });
    expect(a.code, a.stdout + a.stderr).toBe(0);
    expect(a.stdout).toContain(`+           ip_range: ${n.ipRange}`);
    const written = readFileSync(partial, 'utf8');
    expect(written).toBe(text + `          ip_range: ${n.ipRange}\n          aux_addresses:\n            host: ${n.shim.address}\n`);
    const again = await macvlanctl(h, ['plan', '-f', partial, '--json'], { root: stateRoot });
    expect(again.json!.result.warnings.map((w: { code: string }) => w.code)).not.toContain('COMPOSE_FILE_INCOMPLETE');
    // Now the down + up cycle keeps the range and the shim's reservation.
    for (const step of [['up', '-d'], ['down'], ['up', '-d']]) expect((await compose(h, partial, step)).code).toBe(0);
    const kept = (await inspectNetwork(h, 'media_lan')).IPAM.Config[0];
    expect(kept).toMatchObject({ IPRange: n.ipRange, AuxiliaryAddresses: { host: n.shim.address } });
    expect(await containerAddress(h, 'media_web_1')).toBe(n.ipRange.replace(/\/\d+$/, ''));
    expect((await compose(h, partial, ['down'])).code).toBe(0);
    expect((await macvlanctl(h, ['destroy', 'media_lan', '--yes'], { root: stateRoot })).code).toBe(0);
  }, 180_000);

  it('external: true — never created or relabelled, only given host access', async () => {
    const h = lab.host('h1');
    const ext = join(dir, 'Home_Lab', 'external.yml');
    writeFileSync(ext, EXTERNAL_FILE);
    const missing = await macvlanctl(h, ['apply', '-f', ext, '--yes', '--json'], { root: stateRoot });
    expect(missing.code).toBe(2);
    expect(missing.json!.error!.message).toMatch(/external: true, but Docker has no network of that name/);
    const made = await h.dockerCli([
      'network', 'create', '-d', 'macvlan', '-o', 'parent=eno1', '--subnet', '198.51.100.0/24', '--gateway', '198.51.100.1',
      '--ip-range', '198.51.100.96/28', '--aux-address', 'host=198.51.100.111', 'byhand',
    ]);
    expect(made.code, made.stderr).toBe(0);
    const before = await inspectNetwork(h, 'byhand');
    const a = await macvlanctl(h, ['apply', '-f', ext, '--yes', '--json'], { root: stateRoot });
    expect(a.code, a.stdout + a.stderr).toBe(0);
    const after = await inspectNetwork(h, 'byhand');
    expect(after.Id).toBe(before.Id);
    expect(after.Labels).toEqual(before.Labels);
    const up = await compose(h, ext, ['up', '-d']);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const app = await containerAddress(h, 'home_lab_app_1');
    expect(app).toBe('198.51.100.96');
    expect(await eventually(() => hostPing(h, app)), 'host → container').toBe(true);
    expect(await eventually(() => containerPing(h, 'home_lab_app_1', '198.51.100.24')), 'container → host').toBe(true);
    const down = await compose(h, ext, ['down']);
    expect(down.code, down.stdout + down.stderr).toBe(0);
    const d = await macvlanctl(h, ['destroy', 'byhand', '--yes'], { root: stateRoot });
    expect(d.code, d.stdout + d.stderr).toBe(0);
    expect((await inspectNetwork(h, 'byhand'))?.Id).toBe(before.Id);
  }, 90_000);
});
