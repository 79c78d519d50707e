/**
 * NetworkManager: one keyfile connection of type macvlan on the parent, with
 * the shim's fixed MAC, a manual /32 (and /128) and routes to the ip-ranges.
 * Mode 0600 and owned by root, or NM ignores the file.
 *
 * Keys as `nmcli --offline connection add type macvlan …` writes them
 * (NM 1.42, Debian 12): macvlan.mode is NM's enum, not the kernel's
 * (1 vepa, 2 bridge, 3 private, 4 passthru, 5 source); `[ethernet]` is the
 * keyfile alias of 802-3-ethernet. test/e2e/render-tools.e2e.test.ts feeds the
 * result through `nmcli --offline connection modify` to prove NM parses it.
 */
import type { MacvlanMode } from '../../model/desired.js';
import type { PlannedNetwork } from '../../model/plan.js';
import { hex, sha1 } from '../../net/digest.js';
import { lines, managedHeader, shimFamilies } from '../render-common.js';
import type { RenderedFile } from '../rendered-file.js';

export const NM_CONNECTIONS_DIR = '/etc/NetworkManager/system-connections';

/** NMSettingMacvlanMode. */
export const NM_MACVLAN_MODE: Record<MacvlanMode, number> = { vepa: 1, bridge: 2, private: 3, passthru: 4 };

/** Namespace of our name-based UUIDs (itself a random v4 UUID, fixed forever). */
const UUID_NAMESPACE = '6a0f4c3e-5b7d-4e2a-9c61-8d3b2f71e0a5';

/** RFC 4122 version-5 (SHA-1, name-based) UUID: the same name always gives the same UUID. */
export function uuidV5(name: string, namespace: string = UUID_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = sha1(Buffer.concat([ns, Buffer.from(name, 'utf8')])).subarray(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = hex(h);
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export function nmConnectionId(network: string): string {
  return `macvlanctl-${network}`;
}

/** The connection's UUID, derived from the network name: re-rendering never makes a second profile. */
export function nmConnectionUuid(network: string): string {
  return uuidV5(`networkmanager-connection:${network}`);
}

export function nmKeyfilePath(network: string): string {
  return `${NM_CONNECTIONS_DIR}/${nmConnectionId(network)}.nmconnection`;
}

/** The VLAN connection of a network whose parent is a VLAN Docker creates: its own id, UUID and file. */
export function nmVlanConnectionId(network: string): string {
  return `macvlanctl-${network}-vlan`;
}

export function nmVlanKeyfilePath(network: string): string {
  return `${NM_CONNECTIONS_DIR}/${nmVlanConnectionId(network)}.nmconnection`;
}

/**
 * A VLAN parent (Docker creates it at run time): a `vlan` connection makes it
 * at boot, without addresses of its own, so that the macvlan connection,
 * whose parent it is, can come up on it. Keys as `nmcli --offline connection
 * add type vlan dev BASE id ID ipv4.method disabled ipv6.method disabled` writes them.
 */
function renderVlanConnection(n: PlannedNetwork, vlan: { link: string; id: number }): RenderedFile {
  const content = lines(
    managedHeader(n.name),
    '[connection]',
    `id=${nmVlanConnectionId(n.name)}`,
    `uuid=${uuidV5(`networkmanager-vlan:${n.name}`)}`,
    'type=vlan',
    `interface-name=${n.parent}`,
    'autoconnect=true',
    '',
    '[vlan]',
    `id=${vlan.id}`,
    `parent=${vlan.link}`,
    '',
    '[ipv4]',
    'method=disabled',
    '',
    '[ipv6]',
    'method=disabled',
  );
  return { path: nmVlanKeyfilePath(n.name), content, mode: 0o600 };
}

export function renderNetworkManager(n: PlannedNetwork): RenderedFile[] {
  const f = shimFamilies(n);
  if (!f) return [];
  const { shim } = f;
  const out: string[] = [
    managedHeader(n.name),
    '[connection]',
    `id=${nmConnectionId(n.name)}`,
    `uuid=${nmConnectionUuid(n.name)}`,
    'type=macvlan',
    `interface-name=${shim.interface}`,
    'autoconnect=true',
    '',
    '[macvlan]',
    `parent=${n.parent}`,
    `mode=${NM_MACVLAN_MODE[shim.mode]}`,
    'tap=false',
    '',
    '[ethernet]',
    `cloned-mac-address=${shim.mac}`,
    '',
    '[ipv4]',
    'method=manual',
    `address1=${shim.address}/32`,
    ...f.routes4.map((r, i) => `route${i + 1}=${r}`),
    // No gateway: the shim must never carry the host's default route.
    'never-default=true',
    '',
    '[ipv6]',
  ];
  if (f.v6) {
    // eui64: the link-local address follows the shim's fixed MAC, as with networkd and ifupdown.
    out.push('method=manual', 'addr-gen-mode=eui64', `address1=${f.v6.address}/128`, ...f.v6.routes.map((r, i) => `route${i + 1}=${r}`), 'never-default=true');
  } else {
    // No IPv6 at all on the shim: no link-local, no addresses from router advertisements.
    out.push('method=disabled');
  }
  const files: RenderedFile[] = [{ path: nmKeyfilePath(n.name), content: lines(...out), mode: 0o600 }];
  if (n.vlan) files.push(renderVlanConnection(n, n.vlan));
  if (f.v6?.proxies.length) files.push(nmProxyNdpScript(n.name, shim.interface, f.v6.proxies));
  return files;
}

export const NM_DISPATCHER_DIR = '/etc/NetworkManager/dispatcher.d';

/**
 * NetworkManager (1.42) has no setting for proxy NDP nor for forwarding on
 * one link, so a dispatcher script does it when NetworkManager brings the
 * shim up: containers then reach the host's own IPv6 address
 * (src/plan/proxy-ndp.ts). Dispatcher scripts must be root's and executable,
 * and start with their interpreter, so the header is the second line.
 */
function nmProxyNdpScript(network: string, dev: string, proxies: string[]): RenderedFile {
  const conf = `/proc/sys/net/ipv6/conf/${dev}`;
  return {
    path: `${NM_DISPATCHER_DIR}/90-macvlanctl-${network}`,
    content: lines(
      '#!/bin/sh',
      managedHeader(network),
      `# Proxy NDP on ${dev} for the host's own IPv6 address, with forwarding on ${dev} only (the host forwards nothing).`,
      `[ "$1" = "${dev}" ] && [ "$2" = "up" ] || exit 0`,
      `echo 1 > ${conf}/proxy_ndp`,
      `echo 1 > ${conf}/forwarding`,
      ...proxies.map((a) => `ip -6 neigh replace proxy ${a} dev ${dev}`),
    ),
    mode: 0o755,
  };
}
