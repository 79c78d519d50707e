/**
 * The rendered files against the real tools that will read them:
 *
 * - NetworkManager keyfile: `nmcli --offline` (NM ≥ 1.36; no daemon involved)
 *   parses ours and writes it back normalised; every key we wrote must survive
 *   with its value, and the result must equal what `nmcli --offline
 *   connection add type macvlan …` makes from the same settings.
 * - systemd unit: `systemd-analyze verify` on the file in a temporary folder
 *   (read-only: it looks at the unit and the targets it names, writes nothing).
 * - ifupdown stanza: `ifup -i FILE --state-dir DIR --no-scripts` inside a
 *   network namespace made here, with a veth `eno1` (or a bridge `br-lan`) as
 *   the parent and a macvlan "container" in a second namespace: the shim comes
 *   up with its MAC, mode, alias, addresses and routes, host and container
 *   reach each other, and `ifdown` removes it all. `-i` and `--state-dir` keep
 *   ifupdown away from /etc/network/interfaces and /run/network;
 *   `--no-scripts` keeps the machine's own /etc/network/if-*.d hooks (which may
 *   restart services) from running. Needs root.
 *
 * Debian packages: network-manager (nmcli), systemd (systemd-analyze),
 * ifupdown (ifup/ifdown), iproute2, iputils-ping. A missing tool skips its
 * part, saying so.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlannedNetwork } from '../../src/model/plan.js';
import { renderIfupdown } from '../../src/backends/ifupdown/render.js';
import { nmConnectionId, nmConnectionUuid, nmKeyfilePath, nmVlanConnectionId, nmVlanKeyfilePath, renderNetworkManager } from '../../src/backends/networkmanager/render.js';
import { renderSystemdUnit } from '../../src/backends/systemd-unit/render.js';
import { renderWatchUnit } from '../../src/backends/systemd-unit/watch-unit.js';
import { SCENARIOS, scenario, scenarioNetwork } from '../golden/scenarios.js';

const REPO = resolve(import.meta.dirname, '..', '..');
const LAUNCHER = join(REPO, 'bin', 'macvlanctl');
const isRoot = process.getuid?.() === 0;

function findTool(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const d of dirs) {
    if (!d) continue;
    try {
      accessSync(join(d, name), constants.X_OK);
      return join(d, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], input?: string): Run {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 15_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

function ok(cmd: string, args: string[], input?: string): string {
  const r = run(cmd, args, input);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function familiesOf(n: PlannedNetwork) {
  const shim = n.shim!;
  return {
    shim,
    routes4: shim.routes.filter((r) => !r.includes(':')),
    routes6: shim.routes.filter((r) => r.includes(':')),
    v6: n.ipv6 !== undefined && shim.address6 !== undefined,
  };
}

// ---------------------------------------------------------------- NetworkManager

const NMCLI = findTool('nmcli');
const nmOffline = NMCLI !== undefined && run(NMCLI, ['--offline', 'connection', 'add', 'type', 'macvlan', 'con-name', 'probe', 'ifname', 'probe', 'dev', 'eno1', 'mode', 'bridge']).status === 0;
if (!nmOffline) {
  console.warn(
    `render-tools e2e: NetworkManager keyfile checks SKIPPED — ${NMCLI ? `${NMCLI} has no working --offline mode (needs NetworkManager ≥ 1.36)` : 'nmcli not found (Debian package: network-manager)'}`,
  );
}

type Keyfile = Record<string, Record<string, string>>;

function parseKeyfile(text: string): Keyfile {
  const out: Keyfile = {};
  let section: Record<string, string> | undefined;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = out[s[1]!] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (!section || eq < 0) throw new Error(`unexpected keyfile line: ${line}`);
    section[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** Keys NM leaves out when they hold the default, which we write anyway for the reader's sake. */
const NM_DEFAULTS: Record<string, string> = { 'connection.autoconnect': 'true', 'macvlan.tap': 'false' };

/** NM writes MACs in upper case. */
function nmValue(key: string, value: string | undefined): string | undefined {
  return key === 'cloned-mac-address' ? value?.toLowerCase() : value;
}

function withoutAddrGenModeWhenDisabled(k: Keyfile): Keyfile {
  if (k.ipv6?.method !== 'disabled') return k;
  const { ['addr-gen-mode']: _drop, ...rest } = k.ipv6;
  return { ...k, ipv6: rest };
}

function nmcliAddArgs(n: PlannedNetwork): string[] {
  const f = familiesOf(n);
  const args = [
    'connection', 'add', 'type', 'macvlan',
    'con-name', nmConnectionId(n.name),
    'ifname', f.shim.interface,
    'dev', n.parent,
    'mode', f.shim.mode,
    'tap', 'no',
    'connection.uuid', nmConnectionUuid(n.name),
    'connection.autoconnect', 'yes',
    'ethernet.cloned-mac-address', f.shim.mac,
    'ipv4.method', 'manual',
    'ipv4.addresses', `${f.shim.address}/32`,
    'ipv4.routes', f.routes4.join(', '),
    'ipv4.never-default', 'yes',
  ];
  if (f.v6) {
    args.push('ipv6.method', 'manual', 'ipv6.addr-gen-mode', 'eui64', 'ipv6.addresses', `${f.shim.address6}/128`, 'ipv6.routes', f.routes6.join(', '), 'ipv6.never-default', 'yes');
  } else {
    args.push('ipv6.method', 'disabled');
  }
  return args;
}

describe.skipIf(!nmOffline)('NetworkManager keyfile through nmcli --offline', () => {
  const nm = (args: string[], input?: string) => run(NMCLI!, ['--offline', ...args], input);

  describe.each(SCENARIOS)('$name', (s) => {
    const n = scenarioNetwork(s);
    const [file] = renderNetworkManager(n);
    const ours = parseKeyfile(file!.content);
    const normalised = () => {
      const r = nm(['connection', 'modify', 'connection.id', nmConnectionId(n.name)], file!.content);
      expect(r.status, r.stderr).toBe(0);
      return parseKeyfile(r.stdout);
    };

    it('is parsed by NM with every key and value intact', () => {
      const back = normalised();
      for (const [section, keys] of Object.entries(ours)) {
        for (const [key, value] of Object.entries(keys)) {
          const got = back[section]?.[key];
          if (NM_DEFAULTS[`${section}.${key}`] === value) expect(got, `${section}.${key} (NM's default)`).toBeUndefined();
          else expect(nmValue(key, got), `${section}.${key}`).toBe(nmValue(key, value));
        }
      }
    });

    it('equals what nmcli --offline connection add makes from the same settings', () => {
      const r = nm(nmcliAddArgs(n));
      expect(r.status, r.stderr).toBe(0);
      expect(withoutAddrGenModeWhenDisabled(normalised())).toEqual(withoutAddrGenModeWhenDisabled(parseKeyfile(r.stdout)));
    });
  });

  it('a VLAN parent’s connection equals what nmcli --offline connection add type vlan makes', () => {
    const n = scenarioNetwork(scenario('vlan-parent'));
    const files = renderNetworkManager(n);
    expect(files.map((f) => f.path)).toEqual([nmKeyfilePath(n.name), nmVlanKeyfilePath(n.name)]);
    const vlan = files[1]!;
    const id = nmVlanConnectionId(n.name);
    const back = nm(['connection', 'modify', 'connection.id', id], vlan.content);
    expect(back.status, back.stderr).toBe(0);
    const uuid = parseKeyfile(vlan.content).connection!.uuid!;
    const made = nm(['connection', 'add', 'type', 'vlan', 'con-name', id, 'ifname', n.parent, 'dev', n.vlan!.link, 'id', String(n.vlan!.id), 'connection.uuid', uuid, 'connection.autoconnect', 'yes', 'ipv4.method', 'disabled', 'ipv6.method', 'disabled']);
    expect(made.status, made.stderr).toBe(0);
    expect(withoutAddrGenModeWhenDisabled(parseKeyfile(back.stdout))).toEqual(withoutAddrGenModeWhenDisabled(parseKeyfile(made.stdout)));
  });

  it('rejects a broken keyfile (so the checks above can fail)', () => {
    const [file] = renderNetworkManager(scenarioNetwork(scenario('recipe')));
    const broken = file!.content.replace(/^parent=.*\n/m, '');
    const r = nm(['connection', 'modify', 'connection.id', 'x'], broken);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/macvlan\.parent/);
  });
});

// ---------------------------------------------------------------- systemd unit

const SYSTEMD_ANALYZE = findTool('systemd-analyze');
if (!SYSTEMD_ANALYZE) console.warn('render-tools e2e: systemd unit checks SKIPPED — systemd-analyze not found (Debian package: systemd)');

describe.skipIf(!SYSTEMD_ANALYZE)('systemd unit through systemd-analyze verify', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-unit-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs verify on a unit file in its own folder; returns the exit status and the lines about our unit. */
  function verify(fileName: string, content: string): { status: number | null; complaints: string[]; stderr: string } {
    const sub = mkdtempSync(join(dir, 'u-'));
    const path = join(sub, fileName);
    writeFileSync(path, content);
    const r = run(SYSTEMD_ANALYZE!, ['verify', '--man=no', '--generators=no', path]);
    const complaints = r.stderr.split('\n').filter((l) => l.includes(fileName));
    return { status: r.status, complaints, stderr: r.stderr };
  }

  const commands: [string, string[]][] = [
    ['the launcher', [LAUNCHER]],
    ['node + launcher', [process.execPath, LAUNCHER]],
  ];

  describe.each(SCENARIOS)('$name', (s) => {
    it.each(commands)('passes with %s', (_label, command) => {
      const [file] = renderSystemdUnit(scenarioNetwork(s), { command });
      const r = verify(basename(file!.path), file!.content);
      expect(r.complaints, r.stderr).toEqual([]);
      expect(r.status, r.stderr).toBe(0);
    });
  });

  it.each(commands)('the watch unit (watch --install) passes with %s', (_label, command) => {
    for (const o of [{ names: [], restartContainers: true }, { names: ['mynet', 'lan'], restartContainers: false, dockerHost: 'unix:///run/docker.sock' }]) {
      const file = renderWatchUnit({ command, ...o });
      const r = verify(basename(file.path), file.content);
      expect(r.complaints, r.stderr).toEqual([]);
      expect(r.status, r.stderr).toBe(0);
    }
  });

  it('complains about an unknown key and a missing binary (so the checks above can fail)', () => {
    const [file] = renderSystemdUnit(scenarioNetwork(scenario('recipe')), { command: [LAUNCHER] });
    const unknown = verify(basename(file!.path), file!.content.replace('Type=oneshot\n', 'Type=oneshot\nNoSuchKey=1\n'));
    expect(unknown.complaints.join('\n')).toMatch(/NoSuchKey/);
    const missing = verify(basename(file!.path), file!.content.replaceAll(LAUNCHER, '/nonexistent/macvlanctl'));
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/nonexistent\/macvlanctl/);
  });
});

// ---------------------------------------------------------------- ifupdown

const IFUP = findTool('ifup');
const IFDOWN = findTool('ifdown');
const IP = findTool('ip');
const PING = findTool('ping');
const ifupdownReady = isRoot && IFUP !== undefined && IFDOWN !== undefined && IP !== undefined && PING !== undefined;
if (!ifupdownReady) {
  const why = !isRoot
    ? 'needs root (network namespaces)'
    : `missing ${[!IFUP && 'ifup (ifupdown)', !IFDOWN && 'ifdown (ifupdown)', !IP && 'ip (iproute2)', !PING && 'ping (iputils-ping)'].filter(Boolean).join(', ')}`;
  console.warn(`render-tools e2e: ifupdown checks SKIPPED — ${why}`);
}

describe.skipIf(!ifupdownReady)('ifupdown stanza through ifup -i in a network namespace', () => {
  const prefix = `mvrt${process.pid}`;
  const created: string[] = [];
  let counter = 0;
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'macvlanctl-ifupdown-'));
  });

  const ip = (ns: string, ...args: string[]) => ok(IP!, ['-n', ns, ...args]);
  const inNs = (ns: string, cmd: string, args: string[]) => run(IP!, ['netns', 'exec', ns, cmd, ...args]);
  /** One echo request; `expectReply` false waits only a second for the reply that should not come. */
  const ping = (ns: string, address: string, expectReply = true) =>
    inNs(ns, PING!, [...(address.includes(':') ? ['-6'] : []), '-c', '1', '-W', expectReply ? '3' : '1', address]).status === 0;

  function namespace(role: string): string {
    const name = `${prefix}-${counter}${role}`;
    ok(IP!, ['netns', 'add', name]);
    created.push(name);
    ip(name, 'link', 'set', 'lo', 'up');
    return name;
  }

  function removeNamespaces(): void {
    for (const ns of created.splice(0)) run(IP!, ['netns', 'del', ns]);
  }

  afterEach(removeNamespaces);
  afterAll(() => {
    removeNamespaces();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  interface Lab {
    host: string;
    container: string;
    stanza: string;
    state: string;
    ifup: () => Run;
    ifdown: () => Run;
  }

  /**
   * A host namespace with the parent (veth eno1, or bridge br-lan with one
   * veth port), and a container namespace holding a macvlan of the same parent
   * in the network's mode, as Docker would make it.
   */
  function lab(n: PlannedNetwork, container: { v4: string; v6?: string }): Lab {
    counter += 1;
    const host = namespace('h');
    const ctr = namespace('c');
    if (n.parent === 'eno1') {
      ip(host, 'link', 'add', 'eno1', 'type', 'veth', 'peer', 'name', 'lan0');
      ip(host, 'link', 'set', 'lan0', 'up');
      ip(host, 'link', 'set', 'eno1', 'up');
      ip(host, 'addr', 'add', '198.51.100.24/24', 'dev', 'eno1');
      if (n.ipv6) ip(host, 'addr', 'add', '2001:db8:1::24/64', 'dev', 'eno1', 'nodad');
    } else {
      ip(host, 'link', 'add', n.parent, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
      ip(host, 'link', 'add', 'brp0', 'type', 'veth', 'peer', 'name', 'brp0x');
      ip(host, 'link', 'set', 'brp0', 'master', n.parent);
      for (const l of ['brp0x', 'brp0', n.parent]) ip(host, 'link', 'set', l, 'up');
    }
    ip(host, 'link', 'add', 'c0', 'link', n.parent, 'type', 'macvlan', 'mode', n.mode);
    ip(host, 'link', 'set', 'c0', 'netns', ctr);
    ip(ctr, 'addr', 'add', `${container.v4}/24`, 'dev', 'c0');
    if (container.v6) ip(ctr, 'addr', 'add', `${container.v6}/64`, 'dev', 'c0', 'nodad');
    ip(ctr, 'link', 'set', 'c0', 'up');

    const [file] = renderIfupdown(n);
    const base = join(dir, `${counter}`);
    mkdirSync(base);
    const stanza = join(base, basename(file!.path));
    writeFileSync(stanza, file!.content);
    const state = join(base, 'state');
    mkdirSync(state);
    const iface = n.shim!.interface;
    return {
      host,
      container: ctr,
      stanza,
      state,
      ifup: () => inNs(host, IFUP!, ['--no-scripts', '-i', stanza, '--state-dir', state, iface]),
      ifdown: () => inNs(host, IFDOWN!, ['--no-scripts', '-i', stanza, '--state-dir', state, iface]),
    };
  }

  interface LinkJson {
    ifname: string;
    address: string;
    ifalias?: string;
    link?: string;
    operstate: string;
    linkinfo?: { info_kind: string; info_data?: { mode?: string } };
  }

  function link(ns: string, dev: string): LinkJson | undefined {
    const r = run(IP!, ['-n', ns, '-j', '-d', 'link', 'show', 'dev', dev]);
    return r.status === 0 ? (JSON.parse(r.stdout) as LinkJson[])[0] : undefined;
  }

  function addresses(ns: string, dev: string): string[] {
    const j = JSON.parse(ip(ns, '-j', 'addr', 'show', 'dev', dev)) as { addr_info: { local: string; prefixlen: number; scope: string }[] }[];
    return (j[0]?.addr_info ?? []).filter((a) => a.scope !== 'link').map((a) => `${a.local}/${a.prefixlen}`);
  }

  function routes(ns: string, family: '-4' | '-6'): string[] {
    const j = JSON.parse(ip(ns, family, '-j', 'route', 'show')) as { dst: string; dev: string }[];
    return j.map((r) => `${r.dst} dev ${r.dev}`);
  }

  const sysctl = (ns: string, path: string) => inNs(ns, 'cat', [`/proc/sys/net/${path}`]).stdout.trim();

  const cases: [string, { v4: string; v6?: string }][] = [
    ['recipe', { v4: '198.51.100.200' }],
    ['ipv6', { v4: '198.51.100.200', v6: '2001:db8:1:0:ffff:ffff:fffe:1' }],
    ['bridge-parent', { v4: '198.51.100.70' }],
  ];

  it.each(cases)('%s: ifup builds the shim, host and container reach each other, ifdown removes it', (name, ctr) => {
    const n = scenarioNetwork(scenario(name));
    const f = familiesOf(n);
    const l = lab(n, ctr);
    const dev = f.shim.interface;

    expect(ping(l.host, ctr.v4, false), 'without the shim the host must not reach its container').toBe(false);

    const up = l.ifup();
    expect(up.status, up.stderr).toBe(0);
    const shim = link(l.host, dev)!;
    expect(shim).toMatchObject({ ifname: dev, address: f.shim.mac, ifalias: `macvlanctl:${n.name}`, link: n.parent });
    expect(shim.linkinfo).toMatchObject({ info_kind: 'macvlan', info_data: { mode: n.mode } });
    expect(sysctl(l.host, `ipv4/conf/${dev}/arp_notify`)).toBe('1');
    expect(addresses(l.host, dev)).toEqual([`${f.shim.address}/32`, ...(f.v6 ? [`${f.shim.address6}/128`] : [])]);
    expect(routes(l.host, '-4')).toContain(`${f.routes4[0]} dev ${dev}`);
    if (f.v6) {
      expect(sysctl(l.host, `ipv6/conf/${dev}/accept_ra`)).toBe('0');
      // Proxy NDP for the host's own IPv6 address, on the shim only.
      expect([sysctl(l.host, `ipv6/conf/${dev}/proxy_ndp`), sysctl(l.host, `ipv6/conf/${dev}/forwarding`), sysctl(l.host, 'ipv6/conf/all/forwarding')]).toEqual(['1', '1', '0']);
      expect(ip(l.host, '-6', 'neigh', 'show', 'proxy')).toContain(`2001:db8:1::24 dev ${dev}`);
      expect(routes(l.host, '-6')).toContain(`${f.routes6[0]} dev ${dev}`);
    } else {
      expect(sysctl(l.host, `ipv6/conf/${dev}/disable_ipv6`)).toBe('1');
    }
    // The parent's own addresses and routes are untouched.
    if (n.parent === 'eno1') expect(routes(l.host, '-4')).toContain(`198.51.100.0/24 dev eno1`);

    expect(ping(l.host, ctr.v4), 'host → container').toBe(true);
    expect(ping(l.container, f.shim.address), 'container → shim').toBe(true);
    if (n.parent === 'eno1') expect(ping(l.container, '198.51.100.24'), "container → the host's own address").toBe(true);
    if (f.v6) {
      expect(ping(l.host, ctr.v6!), 'host → container (IPv6)').toBe(true);
      expect(ping(l.container, f.shim.address6!), 'container → shim (IPv6)').toBe(true);
      expect(ping(l.container, '2001:db8:1::24'), "container → the host's own IPv6 address").toBe(true);
    }

    const down = l.ifdown();
    expect(down.status, down.stderr).toBe(0);
    expect(link(l.host, dev)).toBeUndefined();
    expect(routes(l.host, '-4').filter((r) => r.includes(dev))).toEqual([]);
    expect(ping(l.host, ctr.v4, false), 'after ifdown').toBe(false);

    // And again: a reboot is just another ifup.
    const again = l.ifup();
    expect(again.status, again.stderr).toBe(0);
    expect(link(l.host, dev)?.address).toBe(f.shim.mac);
    expect(l.ifdown().status).toBe(0);
    expect(link(l.host, dev)).toBeUndefined();
  });

  it('mode-vepa: creates the shim in vepa mode', () => {
    const n = scenarioNetwork(scenario('mode-vepa'));
    const l = lab(n, { v4: '198.51.100.200' });
    const up = l.ifup();
    expect(up.status, up.stderr).toBe(0);
    expect(link(l.host, n.shim!.interface)?.linkinfo?.info_data?.mode).toBe('vepa');
    expect(l.ifdown().status).toBe(0);
    expect(link(l.host, n.shim!.interface)).toBeUndefined();
  });

  it('refuses to take over an interface of the same name that is not ours', () => {
    const n = scenarioNetwork(scenario('recipe'));
    const l = lab(n, { v4: '198.51.100.200' });
    const dev = n.shim!.interface;
    ip(l.host, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', 'other0');
    const before = link(l.host, dev)!;
    const up = l.ifup();
    expect(up.status).not.toBe(0);
    expect(up.stderr).toMatch(/exists/i);
    const after = link(l.host, dev)!;
    expect(after.linkinfo?.info_kind).toBe('veth');
    expect(after.address).toBe(before.address);
    expect(after.ifalias).toBeUndefined();
    expect(addresses(l.host, dev)).toEqual([]);
  });
});
