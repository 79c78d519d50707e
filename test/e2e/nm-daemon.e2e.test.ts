/**
 * `--persist networkmanager` against a RUNNING NetworkManager (the real
 * daemon, 1.42 from Debian 12, on a private D-Bus system bus), in a lab host:
 *
 *   boot       NetworkManager configures eno1 from its own profile
 *   apply      `macvlanctl apply --persist networkmanager --root /`: the shim is
 *              live, the keyfile is written (0600) and `nmcli connection load`ed,
 *              NetworkManager lists the profile with our interface and MAC
 *   reboot     the shim is deleted and NetworkManager restarted: it brings the
 *              shim back itself (MAC, /32, route) and a container reaches the host
 *   destroy    keyfile gone, NetworkManager forgets the profile, shim gone
 *
 * and NetworkManager never touched eno1's addresses or routes while macvlanctl
 * worked (an `ip monitor` of the namespace, and `ip -json` before and after).
 *
 * `--root /` is what makes apply ask the running NetworkManager, so the CLI
 * runs in a private mount namespace whose /etc, /usr and /var/lib are overlays
 * on a tmpfs and whose /run is a tmpfs (test/e2e/support/nm-host.ts); the last
 * test checks that the machine's own /etc is byte for byte as it was.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, type LabHost, LAB_IMAGE, createLab, stripVolatile } from './lab.js';
import { macvlanctl } from './support/cli.js';
import { type NmHost, createNmHost, nmHostMissing } from './support/nm-host.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('nm-daemon e2e: SKIPPED — needs root to build network namespaces and run dockerd');

const NAME = 'pnm';
const SHIM = 'pnm-shim';
const RANGE = '198.51.100.160/27';
const KEYFILE = `/etc/NetworkManager/system-connections/macvlanctl-${NAME}.nmconnection`;
const ENO1_PROFILE = [
  '[connection]',
  'id=eno1',
  'uuid=0d6b3c1e-5f0a-4a53-9a1c-2b7e6f1d9c40',
  'type=ethernet',
  'interface-name=eno1',
  '',
  '[ipv4]',
  'method=manual',
  'address1=198.51.100.24/24,198.51.100.1',
  '',
  '[ipv6]',
  'method=disabled',
  '',
].join('\n');

/** Every entry under a directory as `path type mode size mtime [-> target]`, hashed: equal hashes, an unchanged tree. */
function treeDigest(root: string): { digest: string; entries: number } {
  const hash = createHash('sha256');
  let entries = 0;
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(dir, name);
      const st = lstatSync(p);
      entries++;
      let line = `${p} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.mtimeMs} ${st.ctimeMs}`;
      if (st.isSymbolicLink()) line += ` -> ${readlinkSync(p)}`;
      else if (st.isFile()) {
        try {
          line += ` ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
        } catch {
          line += ' unreadable';
        }
      }
      hash.update(`${line}\n`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(root);
  return { digest: hash.digest('hex'), entries };
}

interface LinkJson {
  ifname: string;
  address?: string;
  flags?: string[];
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

async function link(h: LabHost, name: string): Promise<LinkJson | undefined> {
  const r = await h.exec(['ip', '-json', 'addr', 'show', 'dev', name]);
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout) as LinkJson[])[0];
}

/** eno1's addresses and every route through it (all tables), without timers. */
async function eno1State(h: LabHost): Promise<string> {
  const a = await h.exec(['ip', '-json', 'addr', 'show', 'dev', 'eno1']);
  const r4 = await h.exec(['ip', '-json', '-4', 'route', 'show', 'table', 'all', 'dev', 'eno1']);
  const r6 = await h.exec(['ip', '-json', '-6', 'route', 'show', 'table', 'all', 'dev', 'eno1']);
  return JSON.stringify(stripVolatile([JSON.parse(a.stdout), JSON.parse(r4.stdout), JSON.parse(r6.stdout || '[]')]), null, 1);
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

async function containerPing(h: LabHost, container: string, address: string, attempts = 3): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    if ((await h.dockerCli(['exec', container, 'ping', '-c', '1', '-W', '1', address])).code === 0) return true;
  }
  return false;
}

/** `ip -o monitor address route` in the lab host's namespace; lines() is everything seen so far. */
function monitor(h: LabHost): { proc: ChildProcess; lines: () => string[] } {
  const proc = spawn('nsenter', [`--net=${h.netnsPath}`, 'ip', '-o', 'monitor', 'address', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  return { proc, lines: () => out.split('\n').filter(Boolean) };
}

/** Monitor lines about eno1's own addresses or routes. */
function eno1Events(lines: string[]): string[] {
  return lines.filter((l) => /(^|\s)dev eno1(\s|$)/.test(l) || /^(Deleted )?\d+: eno1\s/.test(l));
}

describe.skipIf(!isRoot)('networkmanager persistence against a running NetworkManager', () => {
  let lab: Lab | undefined;
  let h: LabHost;
  let nm: NmHost | undefined;
  let mon: ReturnType<typeof monitor> | undefined;
  const etcBefore = isRoot ? treeDigest('/etc') : undefined;
  const hostHad = (p: string) => existsSync(p);
  const hostPathsBefore = ['/etc/NetworkManager', '/var/lib/NetworkManager', '/var/lib/macvlanctl', '/usr/sbin/NetworkManager', '/run/NetworkManager'].map((p) => [p, hostHad(p)] as const);

  beforeAll(async () => {
    const missing = nmHostMissing();
    // Not a skip: CI must run this test (.ci/run installs dbus-daemon, scripts/fetch-tools.sh unpacks NetworkManager).
    if (missing.length) throw new Error(`nm-daemon e2e cannot run; missing: ${missing.join('; ')}`);
    lab = await createLab({ docker: true, ipv6: false, hosts: [{ name: 'h1', address: '198.51.100.24' }] });
    h = lab.host('h1');
    nm = await createNmHost(h, { etc: { 'NetworkManager/system-connections/eno1.nmconnection': ENO1_PROFILE } });
    // The boot: eno1 starts unconfigured and NetworkManager configures it from its profile.
    expect((await h.exec(['ip', 'addr', 'flush', 'dev', 'eno1'])).code).toBe(0);
    await nm.startNetworkManager();
    const up = await waitFor(async () => {
      const d = await nm!.nmcli(['-t', '-f', 'GENERAL.STATE,GENERAL.CONNECTION', 'device', 'show', 'eno1']);
      const routes = (await h.exec(['ip', 'route', 'show', 'default'])).stdout;
      return d.stdout.includes('GENERAL.STATE:100 (connected)') && d.stdout.includes('GENERAL.CONNECTION:eno1') && routes.includes('via 198.51.100.1 dev eno1');
    }, 15_000);
    if (!up) throw new Error(`NetworkManager did not bring eno1 up from its profile\n${nm.log()}`);
  }, 120_000);

  afterAll(async () => {
    mon?.proc.kill('SIGTERM');
    await nm?.close();
    await lab?.destroy();
  });

  it('apply loads the keyfile into NetworkManager, which brings the shim back after a restart; destroy makes it forget the profile; eno1 untouched', async () => {
    const n = nm!;
    const nh = n.host;
    const baseline = await eno1State(h);
    mon = monitor(h);
    await new Promise((r) => setTimeout(r, 200)); // the monitor is listening

    // --- apply, with --root / (so the load step runs), inside the private mount namespace.
    const r = await macvlanctl(nh, ['apply', NAME, '--parent', 'eno1', '--ip-range', RANGE, '--persist', 'networkmanager', '--yes', '--json'], { root: '/' });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const planned = r.json!.result.plan.networks[0];
    expect(planned.persistence.backend).toBe('networkmanager');
    // Runtime evidence (nmcli) where this process counts as the machine's own network namespace (where
    // /proc/1/ns/net cannot be read, as in some sandboxes), else the files: the profile for eno1 of an enabled NetworkManager.
    expect(planned.persistence.reason).toMatch(/^NetworkManager manages eno1 \((nmcli: connected, connection "eno1"|profile \/etc\/NetworkManager\/system-connections\/eno1\.nmconnection)\)$/);
    expect(planned.shim.interface).toBe(SHIM);
    const mac: string = planned.shim.mac;
    const address: string = planned.shim.address;
    expect(r.stderr).toContain('NetworkManager loaded the keyfile');

    // The keyfile: 0600 root, in the overlay's upper layer, never in the machine's /etc.
    const st = await n.exec(['stat', '-c', '%a %U', KEYFILE]);
    expect(st.stdout.trim(), st.stderr).toBe('600 root');
    expect((await n.exec(['test', '-f', join(n.dir, 'layers/etc/upper', KEYFILE.slice('/etc/'.length))])).code).toBe(0);
    expect(existsSync(KEYFILE)).toBe(false);
    const rendered = await macvlanctl(nh, ['render', NAME, '--parent', 'eno1', '--ip-range', RANGE, '--backend', 'networkmanager', '--json'], { root: '/' });
    const file = (rendered.json!.result.networks[0].files as { path: string; content: string }[]).find((f) => f.path === KEYFILE);
    expect((await n.exec(['cat', KEYFILE])).stdout).toBe(file?.content);

    // NetworkManager has the profile, as we wrote it.
    const list = await n.nmcli(['-t', '-f', 'NAME,TYPE', 'connection', 'show']);
    expect(list.stdout.split('\n'), list.stderr).toContain(`macvlanctl-${NAME}:macvlan`);
    const prof = await n.nmcli([
      '-t', '-f', 'connection.interface-name,connection.autoconnect,macvlan.parent,macvlan.mode,802-3-ethernet.cloned-mac-address,ipv4.method,ipv4.addresses,ipv4.routes,ipv4.never-default,ipv6.method',
      'connection', 'show', `macvlanctl-${NAME}`,
    ]);
    expect(prof.stdout.trim().split('\n'), prof.stderr).toEqual([
      `connection.interface-name:${SHIM}`,
      'connection.autoconnect:yes',
      'macvlan.parent:eno1',
      'macvlan.mode:2', // bridge (NMSettingMacvlanMode)
      `802-3-ethernet.cloned-mac-address:${mac.toUpperCase()}`,
      'ipv4.method:manual',
      `ipv4.addresses:${address}/32`,
      `ipv4.routes:${RANGE}`,
      'ipv4.never-default:yes',
      'ipv6.method:disabled',
    ]);
    const live = await link(h, SHIM);
    expect(live?.address).toBe(mac);
    expect(live?.addr_info?.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`)).toEqual([`${address}/32`]);
    const dev = await n.nmcli(['-t', '-f', 'GENERAL.STATE,GENERAL.CONNECTION', 'device', 'show', SHIM]);
    console.log(`nm-daemon: after apply, NetworkManager shows ${SHIM} as ${dev.stdout.trim().replace(/\n/g, ', ')}`);

    const run = await h.dockerCli(['run', '-d', '--network', NAME, '--name', 'pnm-web', LAB_IMAGE, 'sleep', '3600']);
    expect(run.code, run.stderr).toBe(0);
    expect(await containerPing(h, 'pnm-web', address)).toBe(true);
    const afterApply = mon.lines().length;
    expect(eno1Events(mon.lines()), 'eno1 changed during apply').toEqual([]);
    expect(await eno1State(h)).toBe(baseline);

    // --- the reboot of the host side: NetworkManager stops, the shim is gone; NetworkManager starts again and
    // brings it back itself. (Stopped first: a running NetworkManager may re-create a deleted shim from the
    // loaded profile at once, which is no proof of what it does at boot.)
    await n.stopNetworkManager();
    expect((await h.exec(['ip', 'link', 'del', SHIM])).code).toBe(0);
    expect(await containerPing(h, 'pnm-web', address, 1)).toBe(false);
    const t0 = Date.now();
    await n.startNetworkManager();
    const back = await waitFor(async () => {
      const l = await link(h, SHIM);
      const routes = (await h.exec(['ip', 'route', 'show', RANGE])).stdout;
      return (l?.addr_info ?? []).some((a) => a.local === address) && routes.includes(`dev ${SHIM}`) && (l?.flags ?? []).includes('UP');
    }, 15_000);
    expect(back, n.log()).toBe(true);
    console.log(`nm-daemon: NetworkManager restarted and brought ${SHIM} back in ${Date.now() - t0} ms`);
    const after = await link(h, SHIM);
    expect(after!.address).toBe(mac);
    expect(after!.addr_info!.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`)).toEqual([`${address}/32`]);
    expect(after!.addr_info!.filter((a) => a.family === 'inet6')).toEqual([]);
    const owner = await n.nmcli(['-t', '-f', 'GENERAL.STATE,GENERAL.CONNECTION', 'device', 'show', SHIM]);
    expect(owner.stdout.trim().split('\n')).toEqual(['GENERAL.STATE:100 (connected)', `GENERAL.CONNECTION:macvlanctl-${NAME}`]);
    expect(await containerPing(h, 'pnm-web', address)).toBe(true);
    expect(await containerPing(h, 'pnm-web', '198.51.100.24')).toBe(true);
    // NetworkManager re-adopts its own eno1 on a restart; what matters is that it ends exactly as before.
    expect(await eno1State(h)).toBe(baseline);
    // status recognises the shim NetworkManager made.
    const stat = await macvlanctl(nh, ['status', NAME, '--json', '--no-reach'], { root: '/' });
    expect(stat.json?.result.networks[0].shim.present, stat.stdout + stat.stderr).toBe(true);
    const beforeDestroy = mon.lines().length;

    // --- destroy: keyfile gone, the profile forgotten, the shim gone (and not brought back).
    // Meanwhile the admin has edited eno1's profile on disk but not loaded it: destroy must not load it for them
    // (`nmcli connection reload` would: it re-reads every profile).
    const edited = ENO1_PROFILE.replace('address1=198.51.100.24/24,198.51.100.1', 'address1=198.51.100.24/24,198.51.100.1\ndns=198.51.100.53;');
    expect((await n.exec(['sh', '-c', 'cat > /etc/NetworkManager/system-connections/eno1.nmconnection'], { input: edited })).code).toBe(0);
    expect((await h.dockerCli(['rm', '-f', 'pnm-web'])).code).toBe(0);
    const d = await macvlanctl(nh, ['destroy', NAME, '--yes'], { root: '/' });
    expect(d.code, d.stderr + d.stdout).toBe(0);
    const dns = await n.nmcli(['-g', 'ipv4.dns', 'connection', 'show', 'eno1']);
    expect(dns.stdout.trim(), 'destroy made NetworkManager load the unsaved edit of eno1').toBe('');
    expect(d.stdout + d.stderr).toContain('NetworkManager forgot');
    expect((await n.exec(['test', '-e', KEYFILE])).code).toBe(1);
    const list2 = await n.nmcli(['-t', '-f', 'NAME', 'connection', 'show']);
    expect(list2.code, list2.stderr).toBe(0);
    expect(list2.stdout.split('\n')).not.toContain(`macvlanctl-${NAME}`);
    await new Promise((res) => setTimeout(res, 1000)); // NetworkManager would have re-created it by now
    expect(await link(h, SHIM)).toBeUndefined();
    expect((await h.exec(['ip', 'route', 'show', RANGE])).stdout).toBe('');
    expect(eno1Events(mon.lines().slice(beforeDestroy)), 'eno1 changed during destroy').toEqual([]);
    expect(await eno1State(h)).toBe(baseline);
    console.log(`nm-daemon: eno1 events during the NetworkManager restart: ${eno1Events(mon.lines().slice(afterApply, beforeDestroy)).length}`);
  }, 60_000);

  it("the machine's own /etc is byte for byte as it was; nothing of NetworkManager or macvlanctl reached /usr, /var/lib or /run", async () => {
    // Still running here: NetworkManager and dbus-daemon (stopped in afterAll); everything they wrote is in the tmpfs.
    expect(treeDigest('/etc')).toEqual(etcBefore);
    for (const [p, had] of hostPathsBefore) expect(existsSync(p), p).toBe(had);
  });
});
