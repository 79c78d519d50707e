/**
 * `--persist auto` on fixture roots built from real files (test/fixtures/
 * persist/README.md says how each was made), and the matching rules on small
 * inputs. The networkd-precedence root carries the link states the real
 * systemd-networkd 252 wrote for eno1..eno3 on those files: the static
 * analysis must agree with them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MacvlanError } from '../../src/model/errors.js';
import { collectManagerFacts } from '../../src/backends/collect.js';
import { choosePersistBackend } from '../../src/backends/detect.js';
import { globMatchName, globMatchPath } from '../../src/backends/glob.js';
import { collectInterfaces, includingSource, parseInterfaces } from '../../src/backends/ifupdown/interfaces-file.js';
import { parseIni } from '../../src/backends/ini.js';
import { collectNetplan, parseBlockYaml } from '../../src/backends/netplan/netplan-files.js';
import { findParentNetworkFile, matchNetworkFile, normalizeMac } from '../../src/backends/networkd/config-files.js';
import { deviceListMatches, nmIgnoresFile, parseNmcliDevices, parseProfile, profileBinding } from '../../src/backends/networkmanager/profiles.js';
import type { RootReader } from '../../src/backends/root-reader.js';
import type { ManagerFacts, NetworkdFile, ParentLink } from '../../src/model/manager-facts.js';
import { fsRootReader, gatherManagerFacts } from '../../src/gather/persist-facts.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/persist');
const root = (name: string) => join(FIXTURES, name);
const facts = (name: string) => gatherManagerFacts(root(name));

/** A NIC as ip -json shows a physical one; the MACs are the fixtures'. */
const nic = (name: string, mac = '52:54:00:12:34:56', extra: Partial<ParentLink> = {}): ParentLink => ({ name, kind: 'ethernet', mac, ...extra });
/** The lab's parent: a veth named like a NIC, with the lab MAC. */
const labEno1: ParentLink = { name: 'eno1', kind: 'veth', infoKind: 'veth', mac: '02:00:c6:33:64:18' };

function codes(d: { warnings: { code: string }[] }): string[] {
  return d.warnings.map((w) => w.code);
}

function refusal(fn: () => unknown): MacvlanError {
  try {
    fn();
  } catch (e) {
    if (e instanceof MacvlanError) return e;
    throw e;
  }
  throw new Error('expected a MacvlanError');
}

describe('--persist auto on real-world roots', () => {
  it('Debian 12 server (installer interfaces file): ifupdown, no warnings for a NIC after the source line', async () => {
    const f = await facts('debian12-ifupdown');
    const d = choosePersistBackend(nic('eno1'), f, 'auto', { network: 'lan' });
    expect(d).toEqual({ backend: 'ifupdown', reason: 'ifupdown configures eno1 (/etc/network/interfaces:12 `iface eno1 inet dhcp`)', warnings: [] });
    // systemd ships .network files (containers, VMs, Wi-Fi) that must not match a NIC, and networkd is not enabled there.
    expect(f.networkd.files.map((x) => x.path)).toContain('/lib/systemd/network/80-container-ve.network');
    expect(f.networkd.unit.state).toBe('disabled');
    expect(f.ifupdown.unit).toEqual({ unit: 'networking.service', state: 'enabled', evidence: '/etc/systemd/system/multi-user.target.wants/networking.service' });
  });

  it('a bridge that ifupdown creates after the source line: ifupdown, with the ordering warning', async () => {
    const f = await facts('debian12-ifupdown-bridge');
    const d = choosePersistBackend({ name: 'br0', kind: 'bridge', infoKind: 'bridge' }, f, 'auto', { network: 'lan' });
    expect(d.backend).toBe('ifupdown');
    expect(d.reason).toBe('ifupdown configures br0 (/etc/network/interfaces:11 `iface br0 inet static`)');
    expect(codes(d)).toEqual(['IFUPDOWN_PARENT_AFTER_SOURCE']);
    expect(d.warnings[0]!.message).toContain('/etc/network/interfaces:3 `source /etc/network/interfaces.d/*` before it brings up br0 (/etc/network/interfaces:10 `auto br0`)');
    expect(d.warnings[0]!.fix).toMatch(/move .*source .* below the stanza of br0/);
    // The bridge port itself is a NIC the kernel made: its stanza's place does not matter.
    expect(codes(choosePersistBackend(nic('eno1'), f, 'auto', { network: 'lan' }))).toEqual([]);
  });

  it('the same bridge with the source line at the end: no ordering warning', async () => {
    const f = await facts('debian12-ifupdown-bridge');
    const text = readFileSync(join(root('debian12-ifupdown-bridge'), 'etc/network/interfaces'), 'utf8');
    const moved = `${text.replace('source /etc/network/interfaces.d/*\n', '')}\nsource /etc/network/interfaces.d/*\n`;
    const entries = parseInterfaces(moved, '/etc/network/interfaces');
    const d = choosePersistBackend({ name: 'br0', kind: 'bridge' }, { ...f, ifupdown: { ...f.ifupdown, entries } }, 'auto', { network: 'lan' });
    expect(d.backend).toBe('ifupdown');
    expect(codes(d)).toEqual([]);
  });

  it('the parent stanza in a sourced file (ifupdown package default): found there, with its file and line', async () => {
    const f = await facts('debian12-sourced');
    const d = choosePersistBackend(nic('eno1'), f, 'auto', { network: 'lan' });
    expect(d.reason).toBe('ifupdown configures eno1 (/etc/network/interfaces.d/eno1:2 `iface eno1 inet static`)');
    expect(codes(d)).toEqual([]);
    // `source …/*` is a glob, not run-parts: a name with a dot is read too.
    expect(f.ifupdown.entries.map((e) => `${e.file}:${e.line} ${e.directive} ${e.args.join(' ')}`)).toEqual([
      '/etc/network/interfaces:3 source /etc/network/interfaces.d/*',
      '/etc/network/interfaces.d/eno1:1 allow-hotplug eno1',
      '/etc/network/interfaces.d/eno1:2 iface eno1 inet static',
      '/etc/network/interfaces.d/vlan-a.disabled:1 auto vlan-a',
      '/etc/network/interfaces.d/vlan-a.disabled:2 iface vlan-a inet manual',
    ]);
  });

  it('source-directory only: a network name with a dot is never read (run-parts names), one without is', async () => {
    const f = await facts('ifupdown-source-directory');
    const dotted = choosePersistBackend(nic('eno1'), f, 'auto', { network: 'lab.net' });
    expect(dotted.backend).toBe('ifupdown');
    expect(codes(dotted)).toEqual(['IFUPDOWN_NOT_SOURCED']);
    expect(dotted.warnings[0]!.message).toContain('/etc/network/interfaces.d/macvlanctl-lab.net');
    expect(codes(choosePersistBackend(nic('eno1'), f, 'auto', { network: 'lab-net' }))).toEqual([]);
  });

  it('Ubuntu server: the parent .network that netplan generated in /run (PermanentMACAddress= and Name=)', async () => {
    const f = await facts('ubuntu-netplan-networkd');
    const d = choosePersistBackend(nic('eno1'), f, 'auto');
    expect(d).toEqual({
      backend: 'networkd',
      reason: 'networkd manages eno1 (/run/systemd/network/10-netplan-eno1.network, generated by netplan from /etc/netplan/50-cloud-init.yaml)',
      networkd: { parentNetworkFile: '/run/systemd/network/10-netplan-eno1.network' },
      warnings: [],
    });
    // Another NIC's permanent MAC: netplan's file does not match it.
    expect(choosePersistBackend(nic('eno1', '52:54:00:12:34:99'), f, 'auto').backend).toBe('systemd');
    // A veth has no permanent address at all (networkd reads 00:00:00:00:00:00).
    expect(choosePersistBackend({ ...labEno1, mac: '52:54:00:12:34:56' }, f, 'auto').backend).toBe('systemd');
  });

  it('the same netplan YAML before netplan ran: the file netplan will generate', async () => {
    const d = choosePersistBackend(nic('eno1'), await facts('ubuntu-netplan-unrendered'), 'auto');
    expect(d.backend).toBe('networkd');
    expect(d.networkd).toEqual({ parentNetworkFile: '/run/systemd/network/10-netplan-eno1.network' });
    expect(d.reason).toContain('which netplan generates at boot from /etc/netplan/50-cloud-init.yaml');
  });

  it('Ubuntu desktop (renderer: NetworkManager for everything): NetworkManager', async () => {
    const d = choosePersistBackend(nic('eno1'), await facts('ubuntu-desktop-netplan-nm'), 'auto');
    expect(d).toEqual({ backend: 'networkmanager', reason: 'NetworkManager manages eno1 (netplan gives every device to NetworkManager in /etc/netplan/01-network-manager-all.yaml)', warnings: [] });
  });

  it('netplan giving one device to NetworkManager: the keyfile netplan wrote to /run', async () => {
    const d = choosePersistBackend(nic('eno1'), await facts('netplan-nm-device'), 'auto');
    expect(d.reason).toBe('NetworkManager manages eno1 (profile /run/NetworkManager/system-connections/netplan-eno1.nmconnection)');
  });

  it('Arch with networkd (merged /usr, Name= globs over two lines): the wired file, for en* and eth* only', async () => {
    const f = await facts('arch-networkd');
    expect(f.networkd.unit.state).toBe('enabled');
    // /lib is a symlink to usr/lib inside the root: the same files, found once under each name, the /usr/lib one first.
    expect(f.networkd.files.filter((x) => x.path.endsWith('80-container-ve.network')).map((x) => x.path)).toEqual(['/usr/lib/systemd/network/80-container-ve.network']);
    for (const name of ['enp3s0', 'eth0']) {
      const d = choosePersistBackend(nic(name), f, 'auto');
      expect(d.networkd, name).toEqual({ parentNetworkFile: '/etc/systemd/network/20-wired.network' });
      expect(d.reason).toBe(`networkd manages ${name} (/etc/systemd/network/20-wired.network)`);
    }
    expect(choosePersistBackend(nic('wlan0'), f, 'auto').backend).toBe('systemd');
  });

  it('Fedora-like NetworkManager (nmcli keyfiles): by interface-name, by MAC, and a hidden file is not a profile', async () => {
    const f = await facts('fedora-nm');
    expect(choosePersistBackend(nic('eno1'), f, 'auto').reason).toBe('NetworkManager manages eno1 (profile /etc/NetworkManager/system-connections/eno1.nmconnection)');
    expect(choosePersistBackend(nic('eno2', '52:54:00:ab:cd:02'), f, 'auto').reason).toBe(
      'NetworkManager manages eno2 (profile /etc/NetworkManager/system-connections/Wired connection 2.nmconnection)',
    );
    // eno5 has only the dot-file profile, which NetworkManager skips; it still takes the NIC by default.
    expect(f.networkManager.profiles.map((p) => p.path)).not.toContain('/etc/NetworkManager/system-connections/.old.nmconnection');
    const eno5 = choosePersistBackend(nic('eno5', '52:54:00:00:00:05'), f, 'auto');
    expect(eno5.backend).toBe('networkmanager');
    expect(eno5.reason).toBe('NetworkManager manages eno5 (it is enabled and takes every Ethernet device nothing else configures)');
    // …but not a veth (its udev rules leave those alone) nor a bridge it did not make.
    expect(choosePersistBackend({ name: 'eno5', kind: 'veth' }, f, 'auto').backend).toBe('systemd');
  });

  it('Debian desktop: NetworkManager leaves an interfaces-file NIC to ifupdown ([ifupdown] managed=false), takes the others', async () => {
    const f = await facts('debian12-nm-ifupdown');
    expect(f.networkManager.ifupdownPlugin).toBe(true);
    expect(choosePersistBackend(nic('eno1'), f, 'auto').backend).toBe('ifupdown');
    expect(choosePersistBackend(nic('eno2'), f, 'auto').backend).toBe('networkmanager');
    const e = refusal(() => choosePersistBackend(nic('eno1'), f, 'networkmanager'));
    expect(e.message).toContain('NetworkManager leaves eno1 to ifupdown ([ifupdown] managed=false)');
  });

  it('no manager for the parent: the systemd unit', async () => {
    const f = await facts('none');
    const d = choosePersistBackend(nic('eno1'), f, 'auto');
    expect(d).toEqual({ backend: 'systemd', reason: 'no network manager configures eno1: a systemd unit brings the shim up at boot', warnings: [] });
  });
});

describe('networkd precedence, checked against the real systemd-networkd', () => {
  /** ifindex → NETWORK_FILE, as networkd 252 wrote them for this root (build.sh --capture-networkd). */
  const captured = () => {
    const dir = join(root('networkd-precedence'), 'run/systemd/netif/links');
    const byName: Record<string, { index: number; file: string }> = {};
    const lines = readFileSync(join(root('networkd-precedence'), 'run/systemd/netif/links.txt'), 'utf8').trim().split('\n');
    for (const l of lines) {
      const [name, index] = l.split(' ');
      const text = readFileSync(join(dir, index!), 'utf8');
      byName[name!] = { index: Number(index), file: /^NETWORK_FILE=(.*)$/m.exec(text)![1]! };
    }
    return byName;
  };

  it('the link states networkd wrote name the files the static reading picks (masks, /run over /usr/lib, drop-in reset, !, Kind=, MACAddress=)', async () => {
    const f = await facts('networkd-precedence');
    const real = captured();
    expect(Object.keys(real).sort()).toEqual(['eno1', 'eno2', 'eno3']);
    const links: Record<string, ParentLink> = {
      eno1: labEno1,
      eno2: { name: 'eno2', kind: 'veth', infoKind: 'veth', mac: '12:4e:43:0e:59:0b' },
      eno3: { name: 'eno3', kind: 'veth', infoKind: 'veth', mac: '5a:8b:11:22:33:44' },
    };
    for (const [name, link] of Object.entries(links)) {
      const staticPick = findParentNetworkFile(f.networkd.files, link);
      expect(staticPick?.file.path, name).toBe(real[name]!.file);
      // With the index, the runtime state decides, and agrees.
      const d = choosePersistBackend({ ...link, index: real[name]!.index }, f, 'auto');
      expect(d.networkd?.parentNetworkFile, name).toBe(real[name]!.file);
      expect(codes(d)).toEqual([]);
    }
    expect(real.eno1!.file).toBe('/etc/systemd/network/50-mac.network');
    expect(real.eno2!.file).toBe('/run/systemd/network/20-vendor.network');
    expect(real.eno3!.file).toBe('/usr/lib/systemd/network/99-default.network');
  });

  it('a NIC (no IFLA_INFO_KIND) matches Type=ether Kind=!veth first', async () => {
    const f = await facts('networkd-precedence');
    expect(findParentNetworkFile(f.networkd.files, nic('eno1', '02:00:c6:33:64:18'))?.file.path).toBe('/etc/systemd/network/40-nic.network');
  });

  it('masks and drop-ins are what networkd reads', async () => {
    const f = await facts('networkd-precedence');
    expect(f.networkd.masked).toEqual(['/etc/systemd/network/05-vendor.network']);
    const lan = f.networkd.files.find((x) => x.path.endsWith('30-lan.network'))!;
    expect(lan.dropIns).toEqual(['/run/systemd/network/30-lan.network.d/10-narrow.conf']);
    expect(matchNetworkFile(lan, labEno1)).toEqual({ matches: false, failed: 'Name=eno9' });
    expect(f.networkd.files.map((x) => x.path)).toEqual([
      '/etc/systemd/network/10-not-eno123.network',
      '/run/systemd/network/20-vendor.network',
      '/etc/systemd/network/30-lan.network',
      '/etc/systemd/network/40-nic.network',
      '/etc/systemd/network/50-mac.network',
      '/usr/lib/systemd/network/99-default.network',
    ]);
  });

  it('the runtime state wins over the files, and says so when they disagree', async () => {
    const f = await facts('networkd-precedence');
    const real = captured();
    // As if eno1 were a NIC now: the files say 40-nic, networkd applied 50-mac at its start.
    const d = choosePersistBackend(nic('eno1', '02:00:c6:33:64:18', { index: real.eno1!.index }), f, 'auto');
    expect(d.networkd).toEqual({ parentNetworkFile: '/etc/systemd/network/50-mac.network' });
    expect(codes(d)).toEqual(['PERSIST_NETWORKD_CHANGED']);
  });
});

describe('explicit backends', () => {
  it('none passes through; systemd always works', async () => {
    const f = await facts('debian12-ifupdown');
    expect(choosePersistBackend(nic('eno1'), f, 'none')).toEqual({ backend: 'none', reason: '--persist none: the shim is not persisted and is gone after a reboot', warnings: [] });
    expect(choosePersistBackend(nic('eno1'), f, 'systemd').backend).toBe('systemd');
  });

  it('networkd refused on Debian with ifupdown; the message says why and what would work', async () => {
    const f = await facts('debian12-ifupdown');
    const e = refusal(() => choosePersistBackend(nic('eno1'), f, 'networkd'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(
      "--persist networkd cannot bring eno1's shim back at boot: no .network file matches eno1 (in /etc/systemd/network, /run/systemd/network, /usr/local/lib/systemd/network, /usr/lib/systemd/network, /lib/systemd/network). " +
        '--persist ifupdown would work: ifupdown configures eno1 (/etc/network/interfaces:12 `iface eno1 inet dhcp`); or use --persist auto',
    );
    expect(e.details).toMatchObject({ requested: 'networkd', parent: 'eno1', suggested: 'ifupdown' });
  });

  it('networkd refused when the matching file is there but networkd is not enabled', async () => {
    const f = await facts('arch-networkd');
    const disabled: ManagerFacts = { ...f, networkd: { ...f.networkd, unit: { unit: 'systemd-networkd.service', state: 'disabled', evidence: '/usr/lib/systemd/system/systemd-networkd.service' } } };
    const e = refusal(() => choosePersistBackend(nic('enp3s0'), disabled, 'networkd'));
    expect(e.message).toContain('/etc/systemd/network/20-wired.network matches enp3s0, but systemd-networkd.service is not enabled');
    // auto says so too, as a warning, and falls back to the unit.
    const d = choosePersistBackend(nic('enp3s0'), disabled, 'auto');
    expect(d.backend).toBe('systemd');
    expect(codes(d)).toEqual(['PERSIST_MANAGER_INACTIVE']);
  });

  it('NetworkManager refused where no profile is for the parent and nothing says it runs', async () => {
    const e = refusal(() => choosePersistBackend(nic('enp3s0'), fakeFacts(), 'networkmanager'));
    expect(e.message).toMatch(/^--persist networkmanager cannot bring enp3s0's shim back at boot: no NetworkManager profile is for enp3s0\. --persist systemd would work/);
  });

  it('a tree with only the parent’s config file (what the e2e tests give --root) is enough for its backend', async () => {
    const nd = fakeFacts({ '/etc/systemd/network/10-eno1.network': '[Match]\nName=eno1\n\n[Network]\nAddress=198.51.100.24/24\n' });
    expect(choosePersistBackend(labEno1, nd, 'networkd').networkd).toEqual({ parentNetworkFile: '/etc/systemd/network/10-eno1.network' });
    const nm = fakeFacts({ '/etc/NetworkManager/system-connections/eno1.nmconnection': '[connection]\nid=eno1\ntype=ethernet\ninterface-name=eno1\n' });
    expect(choosePersistBackend(labEno1, nm, 'networkmanager').backend).toBe('networkmanager');
    const ifd = fakeFacts({ '/etc/network/interfaces': 'source /etc/network/interfaces.d/*\n\nauto eno1\niface eno1 inet static\n    address 198.51.100.24/24\n' });
    expect(choosePersistBackend(labEno1, ifd, 'ifupdown')).toEqual({ backend: 'ifupdown', reason: 'ifupdown configures eno1 (/etc/network/interfaces:4 `iface eno1 inet static`)', warnings: [] });
    expect(choosePersistBackend(labEno1, ifd, 'auto').backend).toBe('ifupdown');
  });
});

describe('matching rules', () => {
  const file = (...lines: string[]): NetworkdFile => ({ path: '/etc/systemd/network/x.network', dropIns: [], entries: parseIni(lines.join('\n'), 'x', 'systemd') });

  it('Name= lists accumulate, an empty value resets, ! inverts the whole assignment', () => {
    expect(matchNetworkFile(file('[Match]', 'Name=eth* en*'), nic('eno1')).matches).toBe(true);
    expect(matchNetworkFile(file('[Match]', 'Name=eth*', 'Name=en*'), nic('eno1')).matches).toBe(true);
    expect(matchNetworkFile(file('[Match]', 'Name=en*', 'Name=', 'Name=eth*'), nic('eno1')).matches).toBe(false);
    expect(matchNetworkFile(file('[Match]', 'Name=!eno1 eno2'), nic('eno1')).matches).toBe(false);
    expect(matchNetworkFile(file('[Match]', 'Name=!eno1 eno2'), nic('eno3')).matches).toBe(true);
    expect(matchNetworkFile(file('[Match]', 'Name=en[a-o]?'), nic('eno1')).matches).toBe(true);
    expect(matchNetworkFile(file('[Match]', 'Name=en[!o]*'), nic('eno1')).matches).toBe(false);
    expect(matchNetworkFile(file('[Match]', 'Name=lan0'), nic('eno1', undefined, { altNames: ['lan0'] })).matches).toBe(true);
  });

  it('no [Match] at all matches every link; a continuation line and comments are read as systemd does', () => {
    expect(matchNetworkFile(file('[Network]', 'DHCP=yes'), nic('eno1'))).toEqual({ matches: true, assumed: [] });
    expect(matchNetworkFile(file('[Match]', 'Name=eth0 \\', '# a comment inside', 'eno1'), nic('eno1')).matches).toBe(true);
  });

  it('MACAddress= in every notation; unknown facts are assumed and reported', () => {
    for (const m of ['52:54:00:12:34:56', '52-54-00-12-34-56', '5254.0012.3456']) expect(matchNetworkFile(file('[Match]', `MACAddress=${m}`), nic('eno1')).matches, m).toBe(true);
    expect(matchNetworkFile(file('[Match]', 'MACAddress=52:54:00:12:34:57'), nic('eno1'))).toEqual({ matches: false, failed: 'MACAddress=52:54:00:12:34:57' });
    expect(matchNetworkFile(file('[Match]', 'Name=eno1', 'Driver=e1000e', 'Virtualization=!container'), nic('eno1'))).toEqual({
      matches: true,
      assumed: ['Virtualization=!container', 'Driver=e1000e'],
    });
    expect(normalizeMac('5254.0012.3456')).toBe('52:54:00:12:34:56');
  });

  it('Type= and Kind= follow the link kind', () => {
    expect(matchNetworkFile(file('[Match]', 'Type=ether'), { name: 'br0', kind: 'bridge', infoKind: 'bridge' }).matches).toBe(false);
    expect(matchNetworkFile(file('[Match]', 'Kind=bridge'), { name: 'br0', kind: 'bridge', infoKind: 'bridge' }).matches).toBe(true);
    expect(matchNetworkFile(file('[Match]', 'Kind=bridge'), nic('eno1')).matches).toBe(false);
    expect(matchNetworkFile(file('[Match]', 'Kind=!bridge'), nic('eno1')).matches).toBe(true);
  });

  it('[Link] Unmanaged=yes: networkd matches and leaves the link alone, so it is refused', () => {
    const f = fakeFacts({ '/etc/systemd/network/10-eno1.network': '[Match]\nName=eno1\n[Link]\nUnmanaged=yes\n' });
    expect(refusal(() => choosePersistBackend(labEno1, f, 'networkd')).message).toContain('/etc/systemd/network/10-eno1.network matches eno1 but sets Unmanaged=yes');
  });

  it('NetworkManager device lists (NetworkManager.conf(5) "Device List Format")', () => {
    const p = nic('eno1', '52:54:00:12:34:56');
    expect(deviceListMatches(['interface-name:eno1'], p)).toBe(true);
    expect(deviceListMatches(['interface-name:en*'], p)).toBe(true);
    expect(deviceListMatches(['*', 'except:interface-name:eno1'], p)).toBe(false);
    expect(deviceListMatches(['except:interface-name:eno2'], p)).toBe(true);
    expect(deviceListMatches(['mac:52:54:00:12:34:56'], p)).toBe(true);
    expect(deviceListMatches(['*', 'except:type:wifi'], p)).toBe(true);
    expect(deviceListMatches(['driver:e1000e'], p)).toBeUndefined();
    expect(deviceListMatches(['eno2'], p)).toBe(false);
  });

  it('keyfiles: the names NetworkManager skips, and how a profile binds a device', () => {
    expect(nmIgnoresFile('eno1.nmconnection', true)).toBe(false);
    expect(nmIgnoresFile('eno1', false)).toBe(false);
    expect(nmIgnoresFile('eno1', true)).toBe(true);
    for (const n of ['.eno1.nmconnection', 'eno1.nmconnection~', 'eno1.aB3dE9', 'ca.pem']) expect(nmIgnoresFile(n, false), n).toBe(true);
    const byMatch = parseProfile('[connection]\nid=x\ntype=ethernet\n\n[match]\ninterface-name=en*;!eno2;\n', '/x');
    expect(profileBinding(byMatch, nic('eno1'))).toBe('[match] interface-name=en*;!eno2');
    expect(profileBinding(byMatch, nic('eno2'))).toBeUndefined();
    const shim = parseProfile('[connection]\nid=macvlanctl-lan\ntype=macvlan\ninterface-name=lan-shim\n\n[macvlan]\nparent=eno1\n', '/y');
    expect(profileBinding(shim, nic('eno1'))).toBeUndefined();
  });

  it('nmcli -t output, with escaped colons', () => {
    expect(parseNmcliDevices('eno1:connected:Wired connection 1\nlo:connected (externally):lo\nwlp2s0:unmanaged:--\nbr\\:x:disconnected:a\\:b\n')).toEqual([
      { device: 'eno1', state: 'connected', connection: 'Wired connection 1' },
      { device: 'lo', state: 'connected (externally)', connection: 'lo' },
      { device: 'wlp2s0', state: 'unmanaged' },
      { device: 'br:x', state: 'disconnected', connection: 'a:b' },
    ]);
  });

  it('nmcli decides when it answered: managed, unmanaged, or only externally tracked', async () => {
    const f = await facts('fedora-nm');
    const withNmcli = (state: string): ManagerFacts => ({ ...f, networkManager: { ...f.networkManager, running: true, devices: [{ device: 'eno1', state, connection: 'eno1' }] } });
    expect(choosePersistBackend(nic('eno1'), withNmcli('connected'), 'auto').reason).toBe('NetworkManager manages eno1 (nmcli: connected, connection "eno1")');
    expect(choosePersistBackend(nic('eno1'), withNmcli('unmanaged'), 'auto').backend).toBe('systemd');
    expect(choosePersistBackend(nic('eno1'), withNmcli('connected (externally)'), 'auto').backend).toBe('systemd');
  });

  it('several managers configuring the parent: networkd first, with a warning naming the other', () => {
    const f = fakeFacts({
      '/etc/systemd/network/10-eno1.network': '[Match]\nName=eno1\n',
      '/etc/network/interfaces': 'source /etc/network/interfaces.d/*\nauto eno1\niface eno1 inet dhcp\n',
    });
    const d = choosePersistBackend(labEno1, f, 'auto');
    expect(d.backend).toBe('networkd');
    expect(codes(d)).toEqual(['PERSIST_SEVERAL_MANAGERS']);
    expect(d.warnings[0]!.fix).toBe('if ifupdown is the one in charge, pass --persist ifupdown');
  });
});

describe('readers', () => {
  it('globs: names like fnmatch, paths like glob(3)', () => {
    expect(globMatchName('en*', 'eno1')).toBe(true);
    expect(globMatchName('e?o[0-9]', 'eno1')).toBe(true);
    expect(globMatchName('e\\*', 'e*')).toBe(true);
    expect(globMatchName('e\\*', 'eno1')).toBe(false);
    expect(globMatchPath('/etc/network/interfaces.d/*', '/etc/network/interfaces.d/macvlanctl-lan')).toBe(true);
    expect(globMatchPath('/etc/network/interfaces.d/*', '/etc/network/interfaces.d/.hidden')).toBe(false);
    expect(globMatchPath('/etc/network/*', '/etc/network/interfaces.d/x')).toBe(false);
    expect(globMatchPath('/etc/network//interfaces.d/./*', '/etc/network/interfaces.d/x')).toBe(true);
  });

  it('ifupdown: relative source paths, continuations, a file that sources itself', () => {
    const reader = memReader({
      '/etc/network/interfaces': '# c\nsource interfaces.d/*.cfg\nauto \\\n  eno1\niface eno1 inet dhcp\n  # comment\n  up true\nsource /etc/network/interfaces\n',
      '/etc/network/interfaces.d/a.cfg': 'auto br0\n',
      '/etc/network/interfaces.d/b': 'auto nope\n',
    });
    const r = collectInterfaces(reader);
    expect(r.entries.map((e) => `${e.file}:${e.line} ${e.directive} ${e.args.join(' ')}`)).toEqual([
      '/etc/network/interfaces:2 source interfaces.d/*.cfg',
      '/etc/network/interfaces.d/a.cfg:1 auto br0',
      '/etc/network/interfaces:3 auto eno1',
      '/etc/network/interfaces:5 iface eno1 inet dhcp',
      '/etc/network/interfaces:8 source /etc/network/interfaces',
    ]);
    expect(r.entries[3]!.options).toEqual(['up true']);
    expect(r.problems).toEqual(['/etc/network/interfaces:8: /etc/network/interfaces sources itself; ifup would refuse it']);
    expect(includingSource(r.entries, '/etc/network/interfaces.d/macvlanctl-lan')).toBeUndefined();
    expect(includingSource(r.entries, '/etc/network/interfaces.d/macvlanctl-lan.cfg')?.position).toBe(0);
  });

  it('ifupdown: an interface counts as up while its ifstate file names it; ifdown leaves the file with a newline', () => {
    // As ifupdown 0.8.41 left /run/network after `ifup eno1`, `ifup mv0`, `ifdown mv0` (checked with the real ifup).
    const facts = fakeFacts({
      '/etc/network/interfaces': 'auto eno1\niface eno1 inet dhcp\n',
      '/run/network/ifstate': 'eno1=eno1\n',
      '/run/network/ifstate.eno1': 'eno1\n',
      '/run/network/ifstate.mv0': '\n',
    });
    expect(facts.ifupdown.upInterfaces).toEqual(['eno1']);
  });

  it('netplan: block YAML with comments and quotes; flow style is reported, not guessed', () => {
    expect(parseBlockYaml('network: # c\n  version: 2\n  renderer: "NetworkManager"\n  ethernets:\n    eno1:\n      addresses:\n        - 198.51.100.24/24\n      dhcp4: no\n')).toEqual({
      network: { version: '2', renderer: 'NetworkManager', ethernets: { eno1: { addresses: {}, dhcp4: 'no' } } },
    });
    const f = collectNetplan(memReader({ '/etc/netplan/a.yaml': 'network: {version: 2, renderer: NetworkManager}\n', '/lib/netplan/a.yaml': 'network:\n  renderer: networkd\n' }));
    expect(f.files).toEqual(['/etc/netplan/a.yaml']);
    expect(f.problems).toEqual(['/etc/netplan/a.yaml: `network:` is written in flow style, which macvlanctl does not read']);
  });

  it('unreadable configuration is a warning on the decision, never an error', () => {
    const f = fakeFacts({});
    const d = choosePersistBackend(labEno1, { ...f, problems: ['/etc/network/interfaces could not be read'] }, 'auto');
    expect(d.backend).toBe('systemd');
    expect(codes(d)).toEqual(['PERSIST_FACTS_INCOMPLETE']);
  });

  it('the filesystem reader resolves symlinks inside the root, not on the host', () => {
    const r = fsRootReader(root('arch-networkd'));
    expect(r.info('/lib')).toEqual({ type: 'symlink', size: 7, target: 'usr/lib' });
    expect(r.list('/lib/systemd/network')).toContain('80-container-ve.network');
    // systemctl --root wrote an absolute link to /lib/…: read inside the root, through /lib -> usr/lib.
    expect(r.info('/etc/systemd/system/multi-user.target.wants/systemd-networkd.service')?.target).toBe('/lib/systemd/system/systemd-networkd.service');
    expect(r.read('/etc/systemd/system/multi-user.target.wants/systemd-networkd.service')).toContain('[Service]');
    expect(r.read('/etc/passwd')).toBeUndefined();
  });

  it('every fixture root is used by a test above', () => {
    const used = readFileSync(import.meta.filename, 'utf8');
    for (const name of readdirSync(FIXTURES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name)) {
      expect(used, name).toContain(`'${name}'`);
    }
  });
});

// ---- helpers -----------------------------------------------------------------

/** An in-memory root: files by path (directories implied). */
function memReader(files: Record<string, string>): RootReader {
  const dirs = new Map<string, Set<string>>();
  for (const p of Object.keys(files)) {
    const parts = p.split('/').filter(Boolean);
    for (let i = 0; i < parts.length; i++) {
      const dir = `/${parts.slice(0, i).join('/')}`;
      if (!dirs.has(dir)) dirs.set(dir, new Set());
      dirs.get(dir)!.add(parts[i]!);
    }
  }
  const norm = (p: string) => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p);
  return {
    list: (d) => [...(dirs.get(norm(d)) ?? [])].sort(),
    info: (p) => (files[p] !== undefined ? { type: 'file', size: files[p]!.length } : dirs.has(norm(p)) ? { type: 'dir', size: 0 } : undefined),
    read: (p) => files[p],
  };
}

/** Facts from an in-memory tree with only these files (like the e2e tests' --root trees). */
function fakeFacts(files: Record<string, string> = {}): ManagerFacts {
  return collectManagerFacts(memReader(files), '/tmp/R', { runtimeFiles: true });
}
