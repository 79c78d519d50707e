/**
 * systemd-networkd: a .netdev that creates the shim (fixed MAC, macvlan mode),
 * a .network that configures it (host /32 and /128, routes to the ip-ranges,
 * nothing automatic), and a drop-in that adds `MACVLAN=<shim>` to the
 * parent's own .network without rewriting the user's file. For a VLAN
 * parent that Docker creates (parent `eno1.10`), the VLAN is declared too
 * (a .netdev and a .network that carries `MACVLAN=`), and the drop-in adds
 * `VLAN=` to the base link's .network instead: networkd then brings up the
 * VLAN, and the shim on it, at boot.
 *
 * Every key is one systemd 252 (Debian 12) knows: systemd.netdev(5),
 * systemd.network(5), and the key table inside /lib/systemd/systemd-networkd
 * (checked by test/unit/render-networkd-keys.test.ts).
 *
 * File names: `10-` sorts our .network before the usual catch-all files
 * (networkd applies the first .network that matches a link), and the files
 * are named after the network, like every other backend's, so `destroy NAME`
 * finds them without knowing the shim's name.
 */
import { MacvlanError } from '../../model/errors.js';
import type { PlannedNetwork } from '../../model/plan.js';
import { lines, managedHeader, shimFamilies } from '../render-common.js';
import type { NetworkdContext, RenderedFile } from '../rendered-file.js';

export const NETWORKD_DIR = '/etc/systemd/network';

export function networkdFileNames(network: string): { netdev: string; network: string; dropIn: string; vlanNetdev: string; vlanNetwork: string } {
  return {
    netdev: `10-macvlanctl-${network}.netdev`,
    network: `10-macvlanctl-${network}.network`,
    dropIn: `macvlanctl-${network}.conf`,
    vlanNetdev: `10-macvlanctl-${network}-vlan.netdev`,
    vlanNetwork: `10-macvlanctl-${network}-vlan.network`,
  };
}

/** Where the parent's drop-in goes: /etc/systemd/network/<basename of the parent's .network>.d/macvlanctl-NAME.conf. */
export function networkdDropInPath(parentNetworkFile: string, network: string): string {
  const base = parentNetworkFile.slice(parentNetworkFile.lastIndexOf('/') + 1);
  if (!base.endsWith('.network') || base === '.network') {
    throw new MacvlanError('CONFIG_INVALID', `networkd: the parent's configuration '${parentNetworkFile}' is not a .network file`, { file: parentNetworkFile });
  }
  return `${NETWORKD_DIR}/${base}.d/${networkdFileNames(network).dropIn}`;
}

export function renderNetworkd(n: PlannedNetwork, ctx: NetworkdContext): RenderedFile[] {
  const f = shimFamilies(n);
  if (!f) return [];
  const { shim } = f;
  const names = networkdFileNames(n.name);
  const header = managedHeader(n.name);

  const netdev = lines(
    header,
    '[NetDev]',
    `Description=macvlanctl host shim of Docker network ${n.name}`,
    `Name=${shim.interface}`,
    'Kind=macvlan',
    `MACAddress=${shim.mac}`,
    '',
    '[MACVLAN]',
    `Mode=${shim.mode}`,
  );

  // IPv6 link-local on the shim only when the network has IPv6.
  const network: string[] = [...staticLinkNetwork(header, shim.interface, f.v6 ? 'ipv6' : 'no'), `Address=${shim.address}/32`];
  if (f.v6?.proxies.length) {
    // Containers reach the host's own IPv6 address through proxy NDP on the shim (src/plan/proxy-ndp.ts).
    // networkd 252 sets proxy_ndp and the entries; the forwarding it also needs comes from the sysctl.d file below.
    network.push('IPv6ProxyNDP=yes', ...f.v6.proxies.map((a) => `IPv6ProxyNDPAddress=${a}`));
  }
  if (f.v6) {
    // nodad, as apply does: the address is reserved in Docker as aux-address host.
    network.push('', '[Address]', `Address=${f.v6.address}/128`, 'DuplicateAddressDetection=none');
  }
  for (const r of [...f.routes4, ...(f.v6?.routes ?? [])]) network.push('', '[Route]', `Destination=${r}`);

  const files: RenderedFile[] = [
    { path: `${NETWORKD_DIR}/${names.netdev}`, content: netdev, mode: 0o644 },
    { path: `${NETWORKD_DIR}/${names.network}`, content: lines(...network), mode: 0o644 },
  ];
  if (n.vlan) files.push(...vlanFiles(n, n.vlan, shim.interface, ctx));
  else files.push({ path: networkdDropInPath(ctx.parentNetworkFile, n.name), content: lines(header, '[Network]', `MACVLAN=${shim.interface}`), mode: 0o644 });
  if (f.v6?.proxies.length) files.push(shimForwardingSysctl(n.name, shim.interface));
  return files;
}

/**
 * The start of a .network for a link macvlanctl adds (the shim, or a VLAN
 * parent): matched by name, up to its [Network] section's static settings,
 * for the caller to go on with its addresses or links.
 */
function staticLinkNetwork(header: string, name: string, linkLocal: 'ipv6' | 'no'): string[] {
  return [
    header,
    '[Match]',
    `Name=${name}`,
    '',
    '[Link]',
    // The host is online without this link: never hold up boot for it.
    'RequiredForOnline=no',
    '',
    '[Network]',
    'DHCP=no',
    // Never take addresses or routes from router advertisements: the host's
    // own LAN config stays on the parent.
    `LinkLocalAddressing=${linkLocal}`,
    'IPv6AcceptRA=no',
    // Static settings: keep them while the parent has no carrier rather than flap with it.
    'ConfigureWithoutCarrier=yes',
  ];
}

/**
 * A VLAN parent (which Docker creates at run time): networkd creates it at
 * boot instead — `VLAN=` on the base link's own .network (the drop-in), a
 * .netdev for the VLAN, and a .network that puts the shim on it and nothing
 * else (no addresses: the host has none on that VLAN unless it says so).
 */
function vlanFiles(n: PlannedNetwork, vlan: { link: string; id: number }, shim: string, ctx: NetworkdContext): RenderedFile[] {
  const names = networkdFileNames(n.name);
  const header = managedHeader(n.name);
  const netdev = lines(header, '[NetDev]', `Description=VLAN ${vlan.id} on ${vlan.link}, parent of Docker network ${n.name}`, `Name=${n.parent}`, 'Kind=vlan', '', '[VLAN]', `Id=${vlan.id}`);
  const network = lines(...staticLinkNetwork(header, n.parent, 'no'), `MACVLAN=${shim}`);
  return [
    { path: `${NETWORKD_DIR}/${names.vlanNetdev}`, content: netdev, mode: 0o644 },
    { path: `${NETWORKD_DIR}/${names.vlanNetwork}`, content: network, mode: 0o644 },
    // The base link's own .network (found by detection on the base) gets the VLAN, as it would the shim.
    { path: networkdDropInPath(ctx.parentNetworkFile, n.name), content: lines(header, '[Network]', `VLAN=${n.parent}`), mode: 0o644 },
  ];
}

export const SYSCTL_D = '/etc/sysctl.d';

/**
 * networkd 252 has no per-link forwarding setting (its IPForward= switches
 * forwarding on for the whole host, which must never happen), but the kernel
 * answers proxied neighbour solicitations only on a link with forwarding on.
 * systemd-udevd applies sysctl.d settings of a link when it appears
 * (99-systemd.rules runs systemd-sysctl --prefix=/net/ipv6/conf/LINK), so
 * this file switches it on for the shim alone, each time networkd creates it.
 */
export function shimForwardingSysctl(network: string, shim: string): { path: string; content: string; mode: number } {
  return {
    path: `${SYSCTL_D}/90-macvlanctl-${network}.conf`,
    content: lines(managedHeader(network), `# Proxy NDP on ${shim} (the host's own IPv6 address for containers) needs forwarding on ${shim} only; the host forwards nothing.`, `net.ipv6.conf.${shim}.forwarding = 1`),
    mode: 0o644,
  };
}
