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
 *   switch     applied with networkmanager, NetworkManager restarted (so it made the
 *              shim and owns it), then `apply --persist systemd`: the keyfile goes,
 *              NetworkManager forgets the profile, and the shim stays — never
 *              deleted, same MAC, /32 and route — where NetworkManager would delete
 *              a link it made when its profile goes (src/backends/networkmanager/load.ts
 *              releases it first); NetworkManager leaves it alone across its own
 *              restart, and a shim `macvlanctl up` makes after a reboot; destroy
 *              still removes everything
 *
 * and NetworkManager never touched eno1's addresses or routes while macvlanctl
 * worked (an `ip monitor` of the namespace, and `ip -json` before and after).
 *
 * `--root /` is what makes apply ask the running NetworkManager, so the CLI
 * runs in a private mount namespace whose /etc, /usr and /var/lib are overlays
 * on a tmpfs and whose /run is a tmpfs (test/e2e/support/nm-host.ts); the last
 * test checks that the machine's own /etc is as it was wherever NetworkManager or
 * macvlanctl could have written (contents, modes and owners, not times).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, type LabHost, LAB_IMAGE, createLab, stripVolatile } from './lab.js';
import { macvlanctl } from './support/cli.js';
import { containerPing, link, waitFor } from './support/host-probes.js';
import { type NmHost, createNmHost, nmHostMissing } from './support/nm-host.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('nm-daemon e2e: SKIPPED — needs root to build network namespaces and run dockerd');

const NAME = 'pnm';
const SHIM = 'pnm-shim';
const RANGE = '198.51.100.160/27';
const KEYFILE = `/etc/NetworkManager/system-connections/macvlanctl-${NAME}.nmconnection`;
const UNIT = `/etc/systemd/system/macvlanctl-${NAME}.service`;
const UNIT_LINK = `/etc/systemd/system/multi-user.target.wants/macvlanctl-${NAME}.service`;
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

/**
 * What a test could change under a directory: every entry's path, type and mode bits, owner, and a file's
 * content hash or a symlink's target. No times (something else on the machine touching a file, or reading
 * it, must not count) and nothing that only the kernel updates.
 */
function treeDigest(root: string): { digest: string; entries: number } {
  const hash = createHash('sha256');
  let entries = 0;
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      hash.update(`${dir} unreadable\n`);
      return;
    }
    for (const name of names) {
      const p = join(dir, name);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue; // vanished between readdir and lstat: not ours to judge (a write by a test leaves a file)
      }
      entries++;
      let line = `${p} ${st.mode.toString(8)} ${st.uid}:${st.gid}`;
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
  if (existsSync(root)) walk(root);
  else hash.update(`${root} absent\n`);
  return { digest: hash.digest('hex'), entries };
}

/**
 * The parts of the machine's /etc that NetworkManager, the network managers macvlanctl writes for, or
 * macvlanctl itself could write to (in full), and the names and types of /etc's own entries (a file dropped
 * directly into /etc). The rest of /etc may change under other programs while the test runs.
 */
const ETC_WATCHED = ['/etc/NetworkManager', '/etc/systemd', '/etc/network', '/etc/netplan', '/etc/dbus-1', '/etc/machine-id'];
function etcDigest(): Record<string, { digest: string; entries: number } | string[]> {
  const out: Record<string, { digest: string; entries: number } | string[]> = {};
  out['/etc (names)'] = readdirSync('/etc', { withFileTypes: true }).map((d) => `${d.name}${d.isDirectory() ? '/' : d.isSymbolicLink() ? '@' : ''}`).sort();
  for (const p of ETC_WATCHED) out[p] = treeDigest(p);
  return out;
}

/** eno1's addresses and every route through it (all tables), without timers. */
async function eno1State(h: LabHost): Promise<string> {
  const a = await h.exec(['ip', '-json', 'addr', 'show', 'dev', 'eno1']);
  const r4 = await h.exec(['ip', '-json', '-4', 'route', 'show', 'table', 'all', 'dev', 'eno1']);
  const r6 = await h.exec(['ip', '-json', '-6', 'route', 'show', 'table', 'all', 'dev', 'eno1']);
  return JSON.stringify(stripVolatile([JSON.parse(a.stdout), JSON.parse(r4.stdout), JSON.parse(r6.stdout || '[]')]), null, 1);
}

/** `ip -o monitor address route` (and `link` when asked) in the lab host's namespace; lines() is everything seen so far. */
function monitor(h: LabHost, objects: string[] = ['address', 'route']): { proc: ChildProcess; lines: () => string[] } {
  const proc = spawn('nsenter', [`--net=${h.netnsPath}`, 'ip', '-o', 'monitor', ...objects], { stdio: ['ignore', 'pipe', 'ignore'] });
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
  const monitors: ReturnType<typeof monitor>[] = [];
  let etcBefore: ReturnType<typeof etcDigest> | undefined;
  const hostHad = (p: string) => existsSync(p);
  const hostPathsBefore = ['/etc/NetworkManager', '/var/lib/NetworkManager', '/var/lib/macvlanctl', '/usr/sbin/NetworkManager', '/run/NetworkManager'].map((p) => [p, hostHad(p)] as const);

  beforeAll(async () => {
    etcBefore = etcDigest();
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
    for (const m of [mon, ...monitors]) m?.proc.kill('SIGTERM');
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

  it('a switch away from NetworkManager while NetworkManager owns the shim keeps the shim (never deleted, not even for a moment); destroy still removes everything', async () => {
    const n = nm!;
    const nh = n.host;
    const baseline = await eno1State(h);
    const args = ['apply', NAME, '--parent', 'eno1', '--ip-range', RANGE, '--yes', '--json'];
    const r = await macvlanctl(nh, [...args, '--persist', 'networkmanager'], { root: '/' });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const mac: string = r.json!.result.plan.networks[0].shim.mac;
    const address: string = r.json!.result.plan.networks[0].shim.address;
    const run = await h.dockerCli(['run', '-d', '--network', NAME, '--name', 'pnm-sw', LAB_IMAGE, 'sleep', '3600']);
    expect(run.code, run.stderr).toBe(0);

    // A reboot of the host side since apply: NetworkManager made the shim from our profile and owns it.
    await n.stopNetworkManager();
    expect((await h.exec(['ip', 'link', 'del', SHIM])).code).toBe(0);
    await n.startNetworkManager();
    const owned = await waitFor(async () => {
      const d = await n.nmcli(['-t', '-f', 'GENERAL.STATE,GENERAL.CONNECTION', 'device', 'show', SHIM]);
      const routes = (await h.exec(['ip', 'route', 'show', RANGE])).stdout;
      return d.stdout.includes('GENERAL.STATE:100 (connected)') && d.stdout.includes(`GENERAL.CONNECTION:macvlanctl-${NAME}`) && routes.includes(`dev ${SHIM}`);
    }, 15_000);
    expect(owned, n.log()).toBe(true);
    const ifindex = (await h.exec(['cat', `/sys/class/net/${SHIM}/ifindex`])).stdout.trim();
    expect(await containerPing(h, 'pnm-sw', address)).toBe(true);

    // The shim as it must stay: MAC, /32, route through it.
    const shimIntact = async (): Promise<string | undefined> => {
      const l = await link(h, SHIM);
      if (!l) return `${SHIM} is gone`;
      if (l.address !== mac) return `${SHIM} has MAC ${l.address}`;
      if (!(l.flags ?? []).includes('UP')) return `${SHIM} is down`;
      const v4 = (l.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
      if (JSON.stringify(v4) !== JSON.stringify([`${address}/32`])) return `${SHIM} has ${v4.join(' ') || 'no IPv4 address'}`;
      const routes = (await h.exec(['ip', 'route', 'show', RANGE])).stdout;
      if (!routes.includes(`dev ${SHIM}`)) return `no route to ${RANGE} through ${SHIM}`;
      return undefined;
    };

    // --- the switch: another backend. Watched link by link: the shim must never disappear or lose its address.
    const watch = monitor(h, ['link', 'address', 'route']);
    monitors.push(watch);
    await new Promise((res) => setTimeout(res, 200));
    const sw = await macvlanctl(nh, [...args, '--persist', 'systemd'], { root: '/' });
    expect(sw.code, sw.stderr + sw.stdout).toBe(0);
    expect(sw.json!.result.remaining, sw.stderr).toBe(0);
    expect(sw.stderr).toContain(`NetworkManager forgot the profile of the removed keyfile; ${SHIM} stays up as it was, no longer managed by NetworkManager`);
    expect(await shimIntact()).toBeUndefined();
    // NetworkManager deletes a link it made within about a second of forgetting its profile (measured without the
    // fix: the shim lost its address and route at once and was gone after 2 s); wait longer than that.
    await new Promise((res) => setTimeout(res, 2500));
    expect(await shimIntact(), n.log()).toBeUndefined();
    expect((await h.exec(['cat', `/sys/class/net/${SHIM}/ifindex`])).stdout.trim(), 'the shim was re-created').toBe(ifindex);
    const seen = watch.lines();
    expect(seen.filter((l) => l.startsWith('Deleted') && l.includes(SHIM)), 'the shim or its address/route went away during the switch').toEqual([]);
    expect(eno1Events(seen), 'eno1 changed during the switch').toEqual([]);
    // NetworkManager letting go resets the link's MAC; macvlanctl puts ours back at once (seen here as link events).
    const macs = seen.filter((l) => new RegExp(`^\\d+: ${SHIM}[@:]`).test(l)).map((l) => /link\/ether (\S+)/.exec(l)?.[1]).filter(Boolean);
    console.log(`nm-daemon: ${SHIM}'s MAC during the switch: ${macs.join(' → ') || 'no change'}`);
    expect(await containerPing(h, 'pnm-sw', address)).toBe(true);
    // NetworkManager: no profile any more, and it leaves the shim alone.
    const list = await n.nmcli(['-t', '-f', 'NAME', 'connection', 'show']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.split('\n')).not.toContain(`macvlanctl-${NAME}`);
    const dev = await n.nmcli(['-t', '-f', 'GENERAL.STATE,GENERAL.CONNECTION', 'device', 'show', SHIM]);
    expect(dev.stdout.trim().split('\n')).toEqual(['GENERAL.STATE:10 (unmanaged)', 'GENERAL.CONNECTION:']);
    // The files of the new backend, the keyfile gone.
    expect((await n.exec(['test', '-e', KEYFILE])).code).toBe(1);
    expect((await n.exec(['grep', '-q', '^# Managed by macvlanctl', UNIT])).code).toBe(0);
    expect((await n.exec(['readlink', UNIT_LINK])).stdout.trim()).toBe(UNIT);
    // Converged: a second apply has nothing to do.
    const again = await macvlanctl(nh, [...args, '--persist', 'systemd'], { root: '/' });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json!.result.changed, again.stderr).toBe(false);

    // NetworkManager restarted (an upgrade, say) with the shim live and no profile: it still leaves it alone.
    await n.stopNetworkManager();
    await n.startNetworkManager();
    await new Promise((res) => setTimeout(res, 1500));
    expect(await shimIntact(), n.log()).toBeUndefined();
    // A reboot: no shim until the unit runs `macvlanctl up`; NetworkManager, running, leaves that new link alone too.
    await n.stopNetworkManager();
    expect((await h.exec(['ip', 'link', 'del', SHIM])).code).toBe(0);
    await n.startNetworkManager();
    const up = await macvlanctl(nh, ['up', NAME], { root: '/' });
    expect(up.code, up.stderr + up.stdout).toBe(0);
    await new Promise((res) => setTimeout(res, 1500));
    expect(await shimIntact(), n.log()).toBeUndefined();
    expect(await containerPing(h, 'pnm-sw', address)).toBe(true);
    expect(await containerPing(h, 'pnm-sw', '198.51.100.24')).toBe(true);
    expect(await eno1State(h)).toBe(baseline);

    // --- destroy still removes everything.
    expect((await h.dockerCli(['rm', '-f', 'pnm-sw'])).code).toBe(0);
    const d = await macvlanctl(nh, ['destroy', NAME, '--yes'], { root: '/' });
    expect(d.code, d.stderr + d.stdout).toBe(0);
    for (const p of [UNIT, UNIT_LINK, KEYFILE]) expect((await n.exec(['test', '-e', p])).code, p).toBe(1);
    await new Promise((res) => setTimeout(res, 1000));
    expect(await link(h, SHIM)).toBeUndefined();
    expect((await h.exec(['ip', 'route', 'show', RANGE])).stdout).toBe('');
    expect((await h.dockerCli(['network', 'inspect', NAME])).code).not.toBe(0);
    expect((await n.nmcli(['-t', '-f', 'NAME', 'connection', 'show'])).stdout.split('\n')).not.toContain(`macvlanctl-${NAME}`);
    expect(await eno1State(h)).toBe(baseline);
  }, 90_000);

  it("the machine's own /etc is as it was where NetworkManager or macvlanctl could write (contents, modes, owners); nothing of NetworkManager or macvlanctl reached /usr, /var/lib or /run", async () => {
    // Still running here: NetworkManager and dbus-daemon (stopped in afterAll); everything they wrote is in the tmpfs.
    expect(etcBefore).toBeDefined();
    expect(etcDigest()).toEqual(etcBefore);
    // The digest is a real check: it sees a changed content, a new file and a changed mode, but not a touch.
    const dir = mkdtempSync(join(tmpdir(), 'mvl-digest-'));
    try {
      writeFileSync(join(dir, 'a'), 'x');
      const d0 = treeDigest(dir);
      utimesSync(join(dir, 'a'), new Date(0), new Date(0));
      expect(treeDigest(dir)).toEqual(d0);
      writeFileSync(join(dir, 'a'), 'y');
      const d1 = treeDigest(dir);
      expect(d1.digest).not.toBe(d0.digest);
      chmodSync(join(dir, 'a'), 0o600);
      const d2 = treeDigest(dir);
      expect(d2.digest).not.toBe(d1.digest);
      writeFileSync(join(dir, 'b'), '');
      expect(treeDigest(dir).digest).not.toBe(d2.digest);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const [p, had] of hostPathsBefore) expect(existsSync(p), p).toBe(had);
  });
});
