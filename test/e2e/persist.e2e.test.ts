/**
 * Persistence through the CLI, against the real managers, in a lab host:
 *
 * - systemd-networkd: `apply --persist networkd --root R`, then what a reboot
 *   does to the host side (the shim deleted, the parent's addresses flushed),
 *   then the real systemd-networkd started in the host's namespace on
 *   R/etc/systemd/network: the shim must come back with its MAC, address and
 *   route, and a container must reach the host again.
 * - ifupdown: `apply --persist ifupdown`, shim deleted, the real `ifup -i` on
 *   the written stanza brings it back; `ifdown` removes it.
 * - the systemd unit: its ExecStart and ExecStop lines run as systemd would
 *   run them (in the namespace), and `systemd-analyze verify` accepts it.
 * - destroy removes every file it wrote and nothing else; a user's file at
 *   one of our paths makes apply fail and roll everything back.
 *
 * networkd runs in its own mount namespace with a read-only /sys (so it does
 * not wait for udev), a private tmpfs on /run (so it never touches the
 * machine's /run/systemd or its D-Bus socket) and R/etc/systemd/network bind-
 * mounted over /etc/systemd/network.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, type LabHost, LAB_IMAGE, createLab, hostFingerprint } from './lab.js';
import { macvlanctl } from './support/cli.js';
import { renderNetworkManager } from '../../src/backends/networkmanager/render.js';
import { containerPing, link, waitFor } from './support/host-probes.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('persist e2e: SKIPPED — needs root to build network namespaces and run dockerd');

function findTool(name: string): string | undefined {
  for (const d of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin', '/lib/systemd']) {
    if (d && existsSync(join(d, name))) return join(d, name);
  }
  return undefined;
}
const NETWORKD = ['/lib/systemd/systemd-networkd', '/usr/lib/systemd/systemd-networkd'].find((p) => existsSync(p));
const IFUP = findTool('ifup');
const IFDOWN = findTool('ifdown');
const ANALYZE = findTool('systemd-analyze');
const NMCLI = findTool('nmcli');
for (const [tool, pkg] of [
  [NETWORKD, 'systemd-networkd (Debian: systemd)'],
  [IFUP, 'ifup (ifupdown; scripts/fetch-tools.sh unpacks it)'],
  [ANALYZE, 'systemd-analyze (systemd)'],
  [NMCLI, 'nmcli (network-manager; scripts/fetch-tools.sh unpacks it)'],
] as const) {
  if (isRoot && !tool) console.warn(`persist e2e: the test that needs ${pkg} is SKIPPED — not found`);
}

/** The files under a root, as `path mode` (or `path -> target`), sorted. */
function tree(root: string, dir = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir)).sort()) {
    const rel = `${dir}/${name}`;
    const st = lstatSync(join(root, rel));
    if (st.isSymbolicLink()) out.push(`${rel} -> ${readlinkSync(join(root, rel))}`);
    else if (st.isDirectory()) out.push(...tree(root, rel));
    else out.push(`${rel} ${(st.mode & 0o7777).toString(8)}`);
  }
  return out;
}

function write(root: string, path: string, content: string): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), content);
}

async function routes(h: LabHost): Promise<string> {
  return (await h.exec(['ip', 'route', 'show'])).stdout;
}

/** The real systemd-networkd in the host's namespace, configured from conf only. */
function startNetworkd(h: LabHost, conf: string): { proc: ChildProcess; log: () => string } {
  const script = [
    'mount -t sysfs -o ro sysfs /sys',
    'mount -t tmpfs -o mode=755 tmpfs /run',
    'mkdir -p /run/systemd/netif/links /run/systemd/netif/leases /run/systemd/netif/lldp',
    'chown -R systemd-network:systemd-network /run/systemd/netif 2>/dev/null || true',
    `mount --bind ${conf} /etc/systemd/network`,
    `exec ${NETWORKD}`,
  ].join(' && ');
  const proc = spawn('nsenter', [`--net=${h.netnsPath}`, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SYSTEMD_LOG_TARGET: 'console', SYSTEMD_LOG_LEVEL: 'info' },
  });
  let log = '';
  proc.stdout!.on('data', (d) => (log += d));
  proc.stderr!.on('data', (d) => (log += d));
  return { proc, log: () => log };
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const done = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await Promise.race([done, new Promise((r) => setTimeout(r, 3000))]);
  if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
}

const PARENT_NETWORK = '/etc/systemd/network/10-eno1.network';
const PARENT_NETWORK_TEXT = '[Match]\nName=eno1\n\n[Network]\nAddress=198.51.100.24/24\nGateway=198.51.100.1\nLinkLocalAddressing=no\n';
const NM_PARENT_TEXT = '[connection]\nid=eno1\ntype=ethernet\ninterface-name=eno1\n\n[ipv4]\nmethod=manual\naddress1=198.51.100.24/24,198.51.100.1\n';
const IFACES_TEXT = 'source /etc/network/interfaces.d/*\n\nauto lo\niface lo inet loopback\n\nauto eno1\niface eno1 inet static\n    address 198.51.100.24/24\n    gateway 198.51.100.1\n';

describe.skipIf(!isRoot)('persistence through the CLI, with the real managers', () => {
  let lab: Lab;
  let dir: string;
  let h: LabHost;
  const roots: Record<string, string> = {};
  const rootFor = (name: string) => (roots[name] ??= mkdtempSync(join(dir, `${name}-`)));

  beforeAll(async () => {
    lab = await createLab({ docker: true, ipv6: false, hosts: [{ name: 'h1', address: '198.51.100.24' }] });
    h = lab.host('h1');
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-persist-'));
  }, 120_000);
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!NETWORKD)('networkd: after a reboot the real systemd-networkd brings the shim back, and a container reaches the host', async () => {
    const R = rootFor('networkd');
    write(R, PARENT_NETWORK, PARENT_NETWORK_TEXT);
    const args = ['pnd', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--shim', 'pnd-shim'];
    const plan = await macvlanctl(h, ['plan', ...args, '--persist', 'networkd', '--json'], { root: R });
    expect(plan.code, plan.stderr).toBe(0);
    const planned = plan.json!.result.networks[0];
    expect(planned.persistence.backend).toBe('networkd');
    expect(planned.persistence.files.map((f: { path: string }) => f.path).sort()).toEqual([
      '/etc/systemd/network/10-eno1.network.d/macvlanctl-pnd.conf',
      '/etc/systemd/network/10-macvlanctl-pnd.netdev',
      '/etc/systemd/network/10-macvlanctl-pnd.network',
    ]);

    const r = await macvlanctl(h, ['apply', ...args, '--persist', 'networkd', '--yes'], { root: R });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(tree(R).filter((l) => l.includes('systemd/network'))).toEqual([
      '/etc/systemd/network/10-eno1.network 644',
      '/etc/systemd/network/10-eno1.network.d/macvlanctl-pnd.conf 644',
      '/etc/systemd/network/10-macvlanctl-pnd.netdev 644',
      '/etc/systemd/network/10-macvlanctl-pnd.network 644',
    ]);
    // The user's own file is untouched: the parent gets MACVLAN= by a drop-in.
    expect(readFileSync(join(R, PARENT_NETWORK), 'utf8')).toBe(PARENT_NETWORK_TEXT);
    // What render prints is what apply wrote.
    const rendered = await macvlanctl(h, ['render', ...args, '--backend', 'networkd', '--json'], { root: R });
    for (const f of rendered.json!.result.networks[0].files as { path: string; content: string }[]) {
      expect(readFileSync(join(R, f.path), 'utf8')).toBe(f.content);
    }
    const run = await h.dockerCli(['run', '-d', '--network', 'pnd', '--name', 'pnd-web', LAB_IMAGE, 'sleep', '3600']);
    expect(run.code, run.stderr).toBe(0);
    const before = await link(h, 'pnd-shim');
    expect(before?.address).toBe(planned.shim.mac);
    expect(await containerPing(h, 'pnd-web', planned.shim.address)).toBe(true);

    // The reboot: the kernel forgets the shim and the parent's addresses.
    expect((await h.exec(['ip', 'link', 'del', 'pnd-shim'])).code).toBe(0);
    expect((await h.exec(['ip', 'addr', 'flush', 'dev', 'eno1'])).code).toBe(0);
    expect(await link(h, 'pnd-shim')).toBeUndefined();
    expect(await containerPing(h, 'pnd-web', '198.51.100.24', 1)).toBe(false);

    const nd = startNetworkd(h, join(R, 'etc/systemd/network'));
    try {
      const back = await waitFor(async () => {
        const l = await link(h, 'pnd-shim');
        return (l?.addr_info ?? []).some((a) => a.local === planned.shim.address) && (await routes(h)).includes('198.51.100.192/27 dev pnd-shim');
      }, 15_000);
      expect(back, nd.log()).toBe(true);
      const after = await link(h, 'pnd-shim');
      expect(after!.address).toBe(planned.shim.mac);
      expect(after!.addr_info!.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`)).toEqual([`${planned.shim.address}/32`]);
      expect(after!.flags).toContain('UP');
      // networkd also gave the parent its address back, from the user's file.
      expect((await link(h, 'eno1'))!.addr_info!.map((a) => a.local)).toContain('198.51.100.24');
      expect(await containerPing(h, 'pnd-web', planned.shim.address)).toBe(true);
      expect(await containerPing(h, 'pnd-web', '198.51.100.24')).toBe(true);
      // status recognises the networkd-made shim (it has no ifalias) by its MAC.
      const st = await macvlanctl(h, ['status', 'pnd', '--json', '--no-reach'], { root: R });
      expect(st.json!.result.networks[0].shim.present, st.stdout).toBe(true);
    } finally {
      await stop(nd.proc);
    }
    expect((await h.dockerCli(['rm', '-f', 'pnd-web'])).code).toBe(0);
    const d = await macvlanctl(h, ['destroy', 'pnd', '--yes'], { root: R });
    expect(d.code, d.stderr + d.stdout).toBe(0);
    expect(await link(h, 'pnd-shim')).toBeUndefined();
    // Only the user's file is left: our three files and the emptied drop-in directory are gone.
    expect(tree(R).filter((l) => l.includes('systemd/network'))).toEqual(['/etc/systemd/network/10-eno1.network 644']);
  }, 120_000);

  it.skipIf(!IFUP || !IFDOWN)('ifupdown: the real ifup brings the shim back from the written stanza, ifdown removes it', async () => {
    const R = rootFor('ifupdown');
    write(R, '/etc/network/interfaces', IFACES_TEXT);
    // ifupdown has run on this "host" since boot: its record of what is up is R/run/network/ifstate.
    const state = join(R, 'run', 'network');
    mkdirSync(state, { recursive: true });
    const args = ['pif', '--parent', 'eno1', '--ip-range', '198.51.100.160/27', '--shim', 'pif-shim', '--persist', 'ifupdown'];
    const r = await macvlanctl(h, ['apply', ...args, '--yes', '--json'], { root: R });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const planned = r.json!.result.plan.networks[0];
    const stanza = join(R, '/etc/network/interfaces.d/macvlanctl-pif');
    expect((statSync(stanza).mode & 0o777).toString(8)).toBe('644');
    expect(readFileSync(join(R, '/etc/network/interfaces'), 'utf8')).toBe(IFACES_TEXT);
    // apply had the real ifup record the shim it made, without touching it (every stanza step is skipped when done).
    expect(r.stderr).toContain('ifupdown counts pif-shim as up');
    expect(readFileSync(join(state, 'ifstate'), 'utf8')).toBe('pif-shim=pif-shim\n');
    const made = await link(h, 'pif-shim');
    expect(made?.address).toBe(planned.shim.mac);
    expect(made?.addr_info?.map((a) => `${a.local}/${a.prefixlen}`)).toEqual([`${planned.shim.address}/32`]);
    const run = await h.dockerCli(['run', '-d', '--network', 'pif', '--name', 'pif-web', LAB_IMAGE, 'sleep', '3600']);
    expect(run.code, run.stderr).toBe(0);

    // systemctl restart networking: ifdown then ifup of what ifupdown counts as up. Before apply recorded the
    // shim, ifdown did not know it ("not configured") and ifup failed on the existing link.
    const down0 = await h.exec([IFDOWN!, '--no-scripts', '-i', stanza, '--state-dir', state, 'pif-shim']);
    expect(down0.code, down0.stderr).toBe(0);
    expect(await link(h, 'pif-shim')).toBeUndefined();
    const up0 = await h.exec([IFUP!, '--no-scripts', '-i', stanza, '--state-dir', state, 'pif-shim']);
    expect(up0.code, up0.stderr).toBe(0);
    expect((await link(h, 'pif-shim'))?.address).toBe(planned.shim.mac);

    // macvlanctl down takes the shim away behind ifupdown's back: ifdown still succeeds, and forgets it.
    expect((await macvlanctl(h, ['down', 'pif'], { root: R })).code).toBe(0);
    expect(await link(h, 'pif-shim')).toBeUndefined();
    const downGone = await h.exec([IFDOWN!, '--no-scripts', '-i', stanza, '--state-dir', state, 'pif-shim']);
    expect(downGone.code, downGone.stderr).toBe(0);
    expect(readFileSync(join(state, 'ifstate'), 'utf8')).toBe('');

    // A reboot: the shim and ifupdown's record in /run are gone; ifup -a brings the shim back from the stanza.
    rmSync(state, { recursive: true });
    mkdirSync(state);
    expect(await containerPing(h, 'pif-web', planned.shim.address, 1)).toBe(false);
    const up = await h.exec([IFUP!, '--no-scripts', '-i', stanza, '--state-dir', state, 'pif-shim']);
    expect(up.code, up.stderr).toBe(0);
    const l = await link(h, 'pif-shim');
    expect(l?.address).toBe(planned.shim.mac);
    expect(l?.addr_info?.map((a) => `${a.local}/${a.prefixlen}`)).toEqual([`${planned.shim.address}/32`]);
    expect(await routes(h)).toContain('198.51.100.160/27 dev pif-shim');
    expect(await containerPing(h, 'pif-web', planned.shim.address)).toBe(true);
    expect(await containerPing(h, 'pif-web', '198.51.100.24')).toBe(true);
    // ifup's shim is ours to status (it carries the alias).
    const st = await macvlanctl(h, ['status', 'pif', '--json', '--no-reach'], { root: R });
    expect(st.json!.result.networks[0].shim.present).toBe(true);

    const down = await h.exec([IFDOWN!, '--no-scripts', '-i', stanza, '--state-dir', state, 'pif-shim']);
    expect(down.code, down.stderr).toBe(0);
    expect(await link(h, 'pif-shim')).toBeUndefined();
    expect(await routes(h)).not.toContain('pif-shim');

    // The stanza never takes over a link of that name that is not our shim (another MAC).
    expect((await h.exec(['ip', 'link', 'add', 'pif-shim', 'link', 'eno1', 'type', 'macvlan', 'mode', 'bridge'])).code).toBe(0);
    const foreign = await h.exec([IFUP!, '--no-scripts', '-i', stanza, '--state-dir', mkdtempSync(join(dir, 'ifstate-')), 'pif-shim']);
    expect(foreign.code).not.toBe(0);
    expect(foreign.stderr).toMatch(/File exists/);
    expect((await h.exec(['ip', 'link', 'del', 'pif-shim'])).code).toBe(0);

    expect((await h.dockerCli(['rm', '-f', 'pif-web'])).code).toBe(0);
    // Up again and recorded by ifupdown, then destroyed: ifupdown forgets the shim too, so a later
    // ifdown -a (systemctl stop networking) has nothing of ours to stumble over.
    expect((await h.exec([IFUP!, '--no-scripts', '-i', stanza, '--state-dir', state, 'pif-shim'])).code).toBe(0);
    expect(readFileSync(join(state, 'ifstate'), 'utf8')).toBe('pif-shim=pif-shim\n');
    const d = await macvlanctl(h, ['destroy', 'pif', '--yes'], { root: R });
    expect(d.code, d.stderr + d.stdout).toBe(0);
    expect(d.stdout + d.stderr).toContain('ifupdown no longer counts pif-shim as up');
    expect(existsSync(stanza)).toBe(false);
    expect(await link(h, 'pif-shim')).toBeUndefined();
    expect(readFileSync(join(state, 'ifstate'), 'utf8')).toBe('');
    expect(tree(R).filter((l) => l.startsWith('/etc/'))).toEqual(['/etc/network/interfaces 644']);
  }, 120_000);

  it('systemd unit: enabled by symlink; its ExecStart brings the shim back without Docker, ExecStop takes it down; verify passes', async () => {
    const R = rootFor('systemd');
    const args = ['psd', '--parent', 'eno1', '--ip-range', '198.51.100.128/27', '--shim', 'psd-shim', '--persist', 'systemd'];
    const r = await macvlanctl(h, ['apply', ...args, '--yes', '--json'], { root: R });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const planned = r.json!.result.plan.networks[0];
    const unitPath = '/etc/systemd/system/macvlanctl-psd.service';
    expect(tree(R).filter((l) => l.startsWith('/etc/'))).toEqual([
      `${unitPath} 644`,
      `/etc/systemd/system/multi-user.target.wants/macvlanctl-psd.service -> ${unitPath}`,
    ]);
    const unit = readFileSync(join(R, unitPath), 'utf8');
    const exec = (key: string) => {
      const line = unit.split('\n').find((l) => l.startsWith(`${key}=`));
      expect(line, unit).toBeDefined();
      return line!.slice(key.length + 1).split(' ');
    };
    const start = exec('ExecStart');
    const stopCmd = exec('ExecStop');
    expect(start.slice(-2)).toEqual(['up', 'psd']);
    if (ANALYZE) {
      const v = await h.exec([ANALYZE, 'verify', '--man=no', join(R, unitPath)]);
      expect(v.stderr.replace(/.*(docker|network-online)\.(service|target).*\n?/g, '').trim(), v.stderr).toBe('');
    }

    // Boot: the shim is gone and Docker is not asked (the unit reads apply's record from --root).
    expect((await h.exec(['ip', 'link', 'del', 'psd-shim'])).code).toBe(0);
    const up = await h.exec([...start, '--root', R], { env: { ...process.env, DOCKER_HOST: 'unix:///nonexistent.sock' } });
    expect(up.code, up.stderr).toBe(0);
    const l = await link(h, 'psd-shim');
    expect(l?.address).toBe(planned.shim.mac);
    expect(l?.addr_info?.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`)).toEqual([`${planned.shim.address}/32`]);
    expect(await routes(h)).toContain('198.51.100.128/27 dev psd-shim');
    // A second start changes nothing.
    const fp = await hostFingerprint(h);
    expect((await h.exec([...start, '--root', R])).code).toBe(0);
    expect(await hostFingerprint(h)).toBe(fp);

    const down = await h.exec([...stopCmd, '--root', R]);
    expect(down.code, down.stderr).toBe(0);
    expect(await link(h, 'psd-shim')).toBeUndefined();

    const d = await macvlanctl(h, ['destroy', 'psd', '--yes'], { root: R });
    expect(d.code, d.stderr + d.stdout).toBe(0);
    expect(tree(R).filter((l) => l.startsWith('/etc/'))).toEqual([]);
  }, 120_000);

  it.skipIf(!NMCLI)('networkmanager: the keyfile is written 0600 and NetworkManager reads back the same connection (nmcli --offline)', async () => {
    const R = rootFor('nm');
    write(R, '/etc/NetworkManager/system-connections/eno1.nmconnection', NM_PARENT_TEXT);
    const args = ['pnm', '--parent', 'eno1', '--ip-range', '198.51.100.64/27', '--shim', 'pnm-shim', '--persist', 'networkmanager'];
    const r = await macvlanctl(h, ['apply', ...args, '--yes', '--json'], { root: R });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const planned = r.json!.result.plan.networks[0];
    const keyfile = join(R, '/etc/NetworkManager/system-connections/macvlanctl-pnm.nmconnection');
    expect((statSync(keyfile).mode & 0o777).toString(8)).toBe('600');
    const back = await h.exec([NMCLI!, '--offline', 'connection', 'modify', 'connection.autoconnect', 'yes'], { input: readFileSync(keyfile, 'utf8') });
    expect(back.code, back.stderr).toBe(0);
    const ini = back.stdout;
    expect(ini).toMatch(/^type=macvlan$/m);
    expect(ini).toMatch(/^interface-name=pnm-shim$/m);
    expect(ini).toMatch(/^parent=eno1$/m);
    expect(ini).toMatch(new RegExp(`^cloned-mac-address=${planned.shim.mac}$`, 'mi'));
    expect(ini).toMatch(new RegExp(`^address1=${planned.shim.address.replace(/\./g, '\\.')}/32$`, 'm'));
    expect(ini).toMatch(/^route1=198\.51\.100\.64\/27$/m);
    const d = await macvlanctl(h, ['destroy', 'pnm', '--yes'], { root: R });
    expect(d.code, d.stderr + d.stdout).toBe(0);
    expect(existsSync(keyfile)).toBe(false);
    expect(existsSync(join(R, '/etc/NetworkManager/system-connections/eno1.nmconnection'))).toBe(true);
  }, 120_000);

  it('switching backend removes the old files; a user file at one of our paths makes apply roll everything back', async () => {
    const R = rootFor('switch');
    write(R, '/etc/network/interfaces', IFACES_TEXT);
    const args = ['psw', '--parent', 'eno1', '--ip-range', '198.51.100.96/27', '--shim', 'psw-shim'];
    expect((await macvlanctl(h, ['apply', ...args, '--persist', 'ifupdown', '--yes'], { root: R })).code).toBe(0);
    const r = await macvlanctl(h, ['apply', ...args, '--persist', 'systemd', '--yes'], { root: R });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(existsSync(join(R, '/etc/network/interfaces.d/macvlanctl-psw'))).toBe(false);
    expect(existsSync(join(R, '/etc/systemd/system/macvlanctl-psw.service'))).toBe(true);
    expect((await macvlanctl(h, ['destroy', 'psw', '--yes'], { root: R })).code).toBe(0);

    // The user's own file where the stanza would go: nothing may change.
    const userFile = '# my own shim config\n';
    write(R, '/etc/network/interfaces.d/macvlanctl-psw', userFile);
    const fp = await hostFingerprint(h);
    const nets = (await h.dockerCli(['network', 'ls', '--format', '{{.Name}}'])).stdout;
    const files = tree(R);
    const bad = await macvlanctl(h, ['apply', ...args, '--persist', 'ifupdown', '--yes'], { root: R });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/macvlanctl-psw exists and was not written by macvlanctl/);
    expect(bad.stderr).toMatch(/the host is as it was/);
    expect(await hostFingerprint(h)).toBe(fp);
    expect((await h.dockerCli(['network', 'ls', '--format', '{{.Name}}'])).stdout).toBe(nets);
    expect(tree(R)).toEqual(files);
    expect(readFileSync(join(R, '/etc/network/interfaces.d/macvlanctl-psw'), 'utf8')).toBe(userFile);
  }, 120_000);
});

/**
 * The same reboot for a dual-stack network: the IPv6 half (the /128, the
 * route, and proxy NDP for the host's own IPv6 address) comes back too.
 */
describe.skipIf(!isRoot)('persistence of a dual-stack network, with the real managers', () => {
  let lab: Lab;
  let dir: string;
  let h: LabHost;
  beforeAll(async () => {
    lab = await createLab({ docker: true, hosts: [{ name: 'h1', address: '198.51.100.24' }] });
    h = lab.host('h1');
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-persist6-'));
  }, 120_000);
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const ping6 = async (container: string, address: string, attempts = 3) => {
    for (let i = 0; i < attempts; i++) if ((await h.dockerCli(['exec', container, 'ping', '-6', '-c', '1', '-W', '1', address])).code === 0) return true;
    return false;
  };
  const sysctl = async (key: string) => (await h.exec(['cat', `/proc/sys/net/ipv6/conf/${key}`])).stdout.trim();
  const proxies = async () => (await h.exec(['ip', '-6', 'neigh', 'show', 'proxy'])).stdout;
  /** The container (run with NET_ADMIN for this) forgets its IPv6 neighbours: its next packet to the host must be answered by proxy NDP, not a cached entry (the shim's MAC never changes). */
  const forget = async (container: string) => {
    const r = await h.dockerCli(['exec', container, 'busybox', 'ip', '-6', 'neigh', 'flush', 'dev', 'eth0']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
  };

  it.skipIf(!NETWORKD)('networkd: after a reboot the shim comes back with its IPv6 address, route and proxy NDP; a container reaches the host at its own IPv6 address', async () => {
    const R = mkdtempSync(join(dir, 'networkd-'));
    write(R, PARENT_NETWORK, `${PARENT_NETWORK_TEXT}Address=2001:db8:1::24/64\nGateway=2001:db8:1::1\nIPv6AcceptRA=no\n`);
    const args = ['pnd6', '--parent', 'eno1', '--ip-range', '198.51.100.192/27', '--subnet', '2001:db8:1::/64', '--shim', 'pnd6-shim', '--persist', 'networkd'];
    const r = await macvlanctl(h, ['apply', ...args, '--yes', '--json'], { root: R });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const planned = r.json!.result.plan.networks[0];
    expect(planned.shim.proxy6).toEqual(['2001:db8:1::24']);
    expect(tree(R).filter((l) => l.includes('sysctl.d'))).toEqual(['/etc/sysctl.d/90-macvlanctl-pnd6.conf 644']);
    const run = await h.dockerCli(['run', '-d', '--cap-add', 'NET_ADMIN', '--network', 'pnd6', '--name', 'pnd6-web', LAB_IMAGE, 'sleep', '3600']);
    expect(run.code, run.stderr).toBe(0);
    expect(await ping6('pnd6-web', '2001:db8:1::24')).toBe(true);

    // The reboot: the kernel forgets the shim (and its proxy entries) and the parent's addresses.
    expect((await h.exec(['ip', 'link', 'del', 'pnd6-shim'])).code).toBe(0);
    expect((await h.exec(['ip', 'addr', 'flush', 'dev', 'eno1'])).code).toBe(0);
    expect(await proxies()).toBe('');

    const nd = startNetworkd(h, join(R, 'etc/systemd/network'));
    try {
      const back = await waitFor(async () => {
        const l = await link(h, 'pnd6-shim');
        return (l?.addr_info ?? []).some((a) => a.local === planned.shim.address6) && (await proxies()).includes('2001:db8:1::24 dev pnd6-shim');
      }, 15_000);
      expect(back, nd.log()).toBe(true);
      expect((await h.exec(['ip', '-6', 'route', 'show', 'dev', 'pnd6-shim'])).stdout).toContain(planned.ipv6.ipRange);
      expect(await sysctl('pnd6-shim/proxy_ndp')).toBe('1');
      // At boot udev applies the sysctl.d file to the new link (99-systemd.rules runs systemd-sysctl for it);
      // there is no udev in the lab, so it is applied here as udev would, to the shim alone.
      const applied = await h.exec(['sysctl', '-p', join(R, 'etc/sysctl.d/90-macvlanctl-pnd6.conf')]);
      expect(applied.code, applied.stderr).toBe(0);
      expect([await sysctl('pnd6-shim/forwarding'), await sysctl('all/forwarding'), await sysctl('eno1/forwarding')]).toEqual(['1', '0', '0']);
      await waitFor(async () => (await link(h, 'eno1'))!.addr_info!.some((a) => a.local === '2001:db8:1::24'), 5_000);
      expect(await ping6('pnd6-web', planned.shim.address6), 'container → shim').toBe(true);
      await forget('pnd6-web');
      expect(await ping6('pnd6-web', '2001:db8:1::24'), "container → the host's own IPv6 address").toBe(true);
      const st = await macvlanctl(h, ['status', 'pnd6', '--json'], { root: R });
      expect(st.json!.result.networks[0].containers[0], st.stdout).toMatchObject({ reachable6: true, reachesHost6: true });
      // networkd's shim has no alias; status still sees its proxy NDP as in place.
      expect(st.json!.result.networks[0].problems).toEqual([]);
    } finally {
      await stop(nd.proc);
    }
    expect((await h.dockerCli(['rm', '-f', 'pnd6-web'])).code).toBe(0);
    const d = await macvlanctl(h, ['destroy', 'pnd6', '--yes'], { root: R });
    expect(d.code, d.stderr + d.stdout).toBe(0);
    expect(tree(R).filter((l) => l.startsWith('/etc/'))).toEqual(['/etc/systemd/network/10-eno1.network 644']);
    expect(await proxies()).toBe('');
  }, 120_000);

  it.skipIf(!IFUP || !IFDOWN)('ifupdown: after a reboot ifup brings back the IPv6 half and proxy NDP; a container reaches the host at its own IPv6 address', async () => {
    const R = mkdtempSync(join(dir, 'ifupdown-'));
    write(R, '/etc/network/interfaces', IFACES_TEXT);
    const args = ['pif6', '--parent', 'eno1', '--ip-range', '198.51.100.160/27', '--subnet', '2001:db8:1::/64', '--shim', 'pif6-shim', '--persist', 'ifupdown'];
    const r = await macvlanctl(h, ['apply', ...args, '--yes', '--json'], { root: R });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const planned = r.json!.result.plan.networks[0];
    const stanza = join(R, '/etc/network/interfaces.d/macvlanctl-pif6');
    const run = await h.dockerCli(['run', '-d', '--cap-add', 'NET_ADMIN', '--network', 'pif6', '--name', 'pif6-web', LAB_IMAGE, 'sleep', '3600']);
    expect(run.code, run.stderr).toBe(0);

    // A reboot: the shim, its proxy entries and ifupdown's record are gone; ifup brings them back from the stanza.
    expect((await h.exec(['ip', 'link', 'del', 'pif6-shim'])).code).toBe(0);
    expect(await ping6('pif6-web', '2001:db8:1::24', 1)).toBe(false);
    const state = mkdtempSync(join(dir, 'ifstate-'));
    const up = await h.exec([IFUP!, '--no-scripts', '-i', stanza, '--state-dir', state, 'pif6-shim']);
    expect(up.code, up.stderr).toBe(0);
    expect((await link(h, 'pif6-shim'))?.addr_info?.filter((a) => a.family === 'inet6' && !a.local.startsWith('fe80')).map((a) => `${a.local}/${a.prefixlen}`)).toEqual([`${planned.shim.address6}/128`]);
    expect(await proxies()).toContain('2001:db8:1::24 dev pif6-shim');
    expect([await sysctl('pif6-shim/proxy_ndp'), await sysctl('pif6-shim/forwarding'), await sysctl('all/forwarding')]).toEqual(['1', '1', '0']);
    expect(await ping6('pif6-web', planned.shim.address6), 'container → shim').toBe(true);
    await forget('pif6-web');
    expect(await ping6('pif6-web', '2001:db8:1::24'), "container → the host's own IPv6 address").toBe(true);

    const down = await h.exec([IFDOWN!, '--no-scripts', '-i', stanza, '--state-dir', state, 'pif6-shim']);
    expect(down.code, down.stderr).toBe(0);
    expect(await proxies()).toBe('');
    expect((await h.dockerCli(['rm', '-f', 'pif6-web'])).code).toBe(0);
    const d = await macvlanctl(h, ['destroy', 'pif6', '--yes'], { root: R });
    expect(d.code, d.stderr + d.stdout).toBe(0);
    expect(tree(R).filter((l) => l.startsWith('/etc/'))).toEqual(['/etc/network/interfaces 644']);
  }, 120_000);

  it('NetworkManager: the dispatcher script, run as NetworkManager runs it when the shim comes up, switches proxy NDP on for the shim alone', async () => {
    const args = ['pnm6', '--parent', 'eno1', '--ip-range', '198.51.100.128/27', '--subnet', '2001:db8:1::/64', '--shim', 'pnm6-shim', '--persist', 'none'];
    const R = mkdtempSync(join(dir, 'nm-'));
    const r = await macvlanctl(h, ['apply', ...args, '--yes', '--json'], { root: R });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const planned = r.json!.result.plan.networks[0];
    const script = renderNetworkManager(planned).find((f) => f.path.includes('/dispatcher.d/'))!;
    expect(script.mode).toBe(0o755);
    const path = join(dir, 'nm-dispatcher-pnm6');
    writeFileSync(path, script.content, { mode: script.mode });
    const run = await h.dockerCli(['run', '-d', '--cap-add', 'NET_ADMIN', '--network', 'pnm6', '--name', 'pnm6-web', LAB_IMAGE, 'sleep', '3600']);
    expect(run.code, run.stderr).toBe(0);
    // As a freshly made shim has it: no proxy entry, both sysctls off.
    expect((await h.exec(['ip', '-6', 'neigh', 'del', 'proxy', '2001:db8:1::24', 'dev', 'pnm6-shim'])).code).toBe(0);
    expect((await h.exec(['sysctl', '-q', '-w', 'net.ipv6.conf.pnm6-shim.proxy_ndp=0', 'net.ipv6.conf.pnm6-shim.forwarding=0'])).code).toBe(0);
    // NetworkManager runs every script for every device: another device's event changes nothing.
    expect((await h.exec([path, 'eno1', 'up'])).code).toBe(0);
    expect(await proxies()).toBe('');
    expect((await h.exec([path, 'pnm6-shim', 'up'])).code).toBe(0);
    expect(await proxies()).toContain('2001:db8:1::24 dev pnm6-shim');
    expect([await sysctl('pnm6-shim/proxy_ndp'), await sysctl('pnm6-shim/forwarding'), await sysctl('all/forwarding')]).toEqual(['1', '1', '0']);
    await forget('pnm6-web');
    expect(await ping6('pnm6-web', '2001:db8:1::24'), "container → the host's own IPv6 address").toBe(true);
    expect((await h.dockerCli(['rm', '-f', 'pnm6-web'])).code).toBe(0);
    const d = await macvlanctl(h, ['destroy', 'pnm6', '--yes'], { root: R });
    expect(d.code, d.stderr + d.stdout).toBe(0);
    expect(await proxies()).toBe('');
  }, 120_000);
});
