/**
 * What the host has of one network we manage, compared with what apply
 * recorded (or, without a record, what the Docker labels say): the Docker
 * network, the shim with its address, MAC and routes, the containers. Pure:
 * `status` and `doctor` both start from it, after gathering the facts.
 */
import type { DockerNetworkFact, HostFacts } from '../model/facts.js';
import type { DhcpPoolEstimate } from '../model/lan.js';
import { type IpAddress, formatAddress, formatCidr, parseAddress } from '../net/address.js';
import type { NetworkState } from '../model/record.js';
import { LABEL_HOST_ADDRESS6, isManagedNetwork } from '../model/labels.js';
import { hostAddressesToProxy, proxiesOn } from './proxy-ndp.js';
import { findOwnShim, shimOnRecord } from './shim-identity.js';
import { networkOfShimAlias, shimAlias } from '../model/labels.js';
import { parentWarnings } from './parent.js';
import { shimDrift } from './shim-drift.js';

export interface ContainerStatus {
  name: string;
  /** Its Compose project and service, when Compose made it. */
  compose?: { project: string; service: string };
  address?: string;
  address6?: string;
  mac?: string;
  reachable?: boolean;
  /** The host reaches it over IPv6 (from the shim). */
  reachable6?: boolean;
  /** It reaches the host's own IPv6 address (`hostAddress6`), through the shim's proxy NDP. */
  reachesHost6?: boolean;
}

export interface NetworkStatus {
  name: string;
  parent?: string;
  mode?: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  /** A dual-stack network's IPv6 part, as Docker has it. */
  ipv6?: { subnet: string; gateway?: string; ipRange?: string };
  auxAddresses: Record<string, string>;
  docker: { present: boolean; id?: string };
  shim: { interface?: string; present: boolean; up: boolean; address?: string; address6?: string; mac?: string; expectedMac?: string; routes: string[]; proxy6?: string[] };
  containers: ContainerStatus[];
  persistence: string[];
  /** The host's own IPv6 address containers should reach it at (the first one the shim answers for by proxy NDP). */
  hostAddress6?: string;
  healthy: boolean;
  problems: string[];
  /** What the last scan of the parent saw in the subnet, when one is fresh in the cache (absent otherwise). */
  lan?: NetworkLan;
}

export interface NetworkLan {
  scannedAt: string;
  ageSeconds: number;
  /** Live hosts in the subnet that are not this host, its shims or Docker's containers; undefined when the scan had no live sweep. */
  live?: { address: string; mac: string }[];
  /** Of those, the ones inside this network's ip-range: somebody holds an address Docker may hand out. */
  inRange?: string[];
  /** DHCP offers in the subnet, and each server's estimated pool; undefined when the scan had no DHCP probe. */
  dhcp?: { servers: string[]; offers: string[]; pools: (DhcpPoolEstimate & { server: string })[] };
}

/** Whether `a` is the address written as `text` (any notation); false when `text` is not an address. */
function sameAddress(a: IpAddress, text: string): boolean {
  try {
    const b = parseAddress(text);
    return a.family === b.family && a.value === b.value;
  } catch {
    return false;
  }
}

/** The status of one network from facts alone (reachability is added after). Pure. */
export function describeNetwork(name: string, net: DockerNetworkFact | undefined, facts: HostFacts, state?: NetworkState): NetworkStatus {
  const problems: string[] = [];
  const s4 = net?.subnets.find((s) => s.subnet?.family === 4);
  const s6 = net?.subnets.find((s) => s.subnet?.family === 6);
  // What the shim should be: from apply's record, else the Docker labels, else whatever carries our alias.
  const recorded = state?.network.shim;
  const onRecord = shimOnRecord(recorded, net);
  const shimName = onRecord.interface ?? facts.interfaces.find((i) => i.alias === shimAlias(name))?.name;
  const shim = shimName ? findOwnShim(name, facts.interfaces, { interface: shimName, mac: onRecord.mac }) : undefined;
  const { address: expectedAddress, address6: expectedAddress6, mac: expectedMac } = onRecord;
  // The kernel's own routes (fe80::/64 on every link, a /128 or /32 for the
  // shim's own address) are not ours to show.
  const own = new Set((shim?.addresses ?? []).map((a) => `${formatAddress(a.address)}/${a.address.family === 4 ? 32 : 128}`));
  const routes = shim
    ? facts.routes
        .filter((r) => r.device === shim.name && r.destination && r.protocol !== 'kernel')
        .map((r) => formatCidr(r.destination!))
        .filter((d) => !d.startsWith('fe80:') && !own.has(d))
    : [];
  // The expected host address if the shim has it (another /32 or /128 may sit there too), else the first one.
  const hostAddress = (family: 4 | 6, expected: string | undefined) => {
    const own = shim?.addresses.filter((a) => a.address.family === family && a.prefix === (family === 4 ? 32 : 128)) ?? [];
    return own.find((a) => expected !== undefined && sameAddress(a.address, expected)) ?? own[0];
  };
  const shimAddress = hostAddress(4, expectedAddress);
  const shimAddress6 = hostAddress(6, expectedAddress6);
  const compose = state?.network.compose;
  if (!net && facts.docker.available && compose && !compose.external) {
    // `docker compose down` removes the network; the shim left behind routes only the ip-range, so it does no harm.
    problems.push(`the Docker network ${name} is gone (Compose project ${compose.project} removes it on down); \`docker compose up\` re-creates it from the file`);
  } else if (!net) problems.push(facts.docker.available ? `Docker network ${name} is missing` : 'Docker is not reachable');
  // dockerd keeps the IPv6 ipam entry of a network made with IPv6 off, but gives no container an IPv6 address
  // (what Compose makes from a file without enable_ipv6: true).
  if (net && !net.enableIPv6 && (state?.network.docker?.enableIPv6 ?? net.labels[LABEL_HOST_ADDRESS6] !== undefined)) {
    problems.push(`Docker network ${name} has IPv6 off, so its containers get no IPv6 address${compose ? '; add enable_ipv6: true to the Compose file, then docker compose down and up' : ''}`);
  }
  // Without its parent up, neither the containers nor the shim reach the LAN, whatever the shim's own flags say.
  const parentName = state?.network.parent ?? net?.parent;
  const parent = parentName ? facts.interfaces.find((i) => i.name === parentName) : undefined;
  if (parentName && !parent) problems.push(`parent ${parentName} is missing`);
  const parentDown = parent ? parentWarnings(parent).find((w) => w.code === 'PARENT_DOWN') : undefined;
  if (parentDown) problems.push(`parent ${parentDown.message}`);
  if (shimName && !shim) problems.push(`shim ${shimName} is missing`);
  if (shim && !shim.up) problems.push(`shim ${shim.name} is down`);
  const expectedMode = recorded?.mode ?? net?.macvlanMode ?? 'bridge';
  const drift = shim ? shimDrift(shim, parent, expectedMode) : {};
  if (shim && drift.mode) problems.push(`shim ${shim.name} is in macvlan mode ${drift.mode.have}, expected ${drift.mode.want}`);
  if (shim && drift.mtu) problems.push(`shim ${shim.name} has MTU ${drift.mtu.have}, its parent ${parentName}'s is ${drift.mtu.want}`);
  if (shim && drift.arpNotifyOff) problems.push(`shim ${shim.name} has arp_notify off: it is not announced by gratuitous ARP when it comes up`);
  if (shim && expectedAddress && !(shimAddress && sameAddress(shimAddress.address, expectedAddress))) problems.push(`shim ${shim.name} lacks its address ${expectedAddress}`);
  if (shim && expectedMac && shim.mac?.toLowerCase() !== expectedMac) problems.push(`shim ${shim.name} has MAC ${shim.mac}, expected ${expectedMac}`);
  if (shim && expectedAddress6 && !(shimAddress6 && sameAddress(shimAddress6.address, expectedAddress6))) {
    problems.push(`shim ${shim.name} lacks its IPv6 address ${expectedAddress6}`);
  }
  const range = s4?.ipRange ? formatCidr(s4.ipRange) : undefined;
  if (shim && range && !routes.includes(range)) problems.push(`route ${range} via ${shim.name} is missing`);
  // The IPv6 range is routed through the shim only when the shim has an IPv6 address (host access over IPv6).
  const range6 = s6?.ipRange ? formatCidr(s6.ipRange) : undefined;
  if (shim && range6 && expectedAddress6 && !routes.includes(range6)) problems.push(`route ${range6} via ${shim.name} is missing`);
  // The /32 (/128) routes of services' fixed addresses outside the range, as apply recorded them: apply and up add a missing one.
  for (const r of recorded?.routes ?? []) {
    if (shim && r !== range && r !== range6 && !routes.includes(r)) problems.push(`route ${r} via ${shim.name} is missing`);
  }
  // Containers reach the host's own IPv6 addresses through the shim's proxy NDP (src/plan/proxy-ndp.ts).
  const proxied = shim ? proxiesOn(facts, shim.name) : [];
  let hostAddress6: string | undefined;
  if (shim && s6?.subnet && expectedAddress6) {
    const wanted = hostAddressesToProxy(parent, s6.subnet, expectedAddress6);
    hostAddress6 = wanted[0];
    for (const a of wanted) {
      if (!proxied.includes(a) || shim.proxyNdp !== true) problems.push(`shim ${shim.name} does not answer for the host's address ${a} (proxy NDP)`);
    }
  }
  // What the shim kept from an earlier range (apply --replace moved it): apply takes it off.
  if (shim && expectedAddress) {
    const expected = [expectedAddress, ...(expectedAddress6 ? [expectedAddress6] : [])];
    for (const a of shim.addresses) {
      if (a.address.family === 6 && formatAddress(a.address).startsWith('fe80:')) continue;
      if (!expected.some((e) => sameAddress(a.address, e))) problems.push(`shim ${shim.name} still holds the stale address ${formatAddress(a.address)}/${a.prefix}`);
    }
    // Apply's record lists every route the shim should carry (the ranges, and the /32 or /128 of a
    // service's fixed address outside them); without a record, the ranges are all that is known.
    const wantedRoutes = new Set([...(recorded?.routes ?? []), ...(range ? [range] : []), ...(range6 ? [range6] : [])]);
    for (const r of routes) if (!wantedRoutes.has(r)) problems.push(`shim ${shim.name} still routes ${r}, not this network's range`);
  }
  const status: NetworkStatus = {
    name,
    auxAddresses: Object.fromEntries(Object.entries(s4?.auxAddresses ?? {}).map(([k, v]) => [k, formatAddress(v)])),
    docker: { present: net !== undefined, ...(net ? { id: net.id } : {}) },
    shim: {
      present: shim !== undefined,
      up: shim?.up ?? false,
      routes,
      ...(shimName ? { interface: shimName } : {}),
      ...(shimAddress ? { address: formatAddress(shimAddress.address) } : {}),
      ...(shimAddress6 ? { address6: formatAddress(shimAddress6.address) } : {}),
      ...(shim?.mac ? { mac: shim.mac } : {}),
      ...(expectedMac ? { expectedMac } : {}),
      ...(proxied.length ? { proxy6: proxied } : {}),
    },
    containers: (net?.containers ?? []).map((ct) => ({
      name: ct.name,
      ...(ct.compose ? { compose: { ...ct.compose } } : {}),
      ...(ct.ipv4 ? { address: formatAddress(ct.ipv4) } : {}),
      ...(ct.ipv6 ? { address6: formatAddress(ct.ipv6) } : {}),
      ...(ct.mac ? { mac: ct.mac } : {}),
    })),
    persistence: (facts.persistence?.managed ?? []).filter((f) => f.network === name).map((f) => f.path),
    healthy: problems.length === 0,
    problems,
  };
  if (hostAddress6) status.hostAddress6 = hostAddress6;
  if (net?.parent) status.parent = net.parent;
  if (net?.macvlanMode || net) status.mode = net?.macvlanMode ?? 'bridge';
  if (s4?.subnet) status.subnet = formatCidr(s4.subnet);
  if (s4?.gateway) status.gateway = formatAddress(s4.gateway);
  if (range) status.ipRange = range;
  if (s6?.subnet) {
    status.ipv6 = { subnet: formatCidr(s6.subnet), ...(s6.gateway ? { gateway: formatAddress(s6.gateway) } : {}), ...(range6 ? { ipRange: range6 } : {}) };
  }
  return status;
}

export function managedNames(facts: HostFacts, recorded: string[] = []): string[] {
  const names = new Set<string>(recorded);
  if (facts.docker.available) for (const n of facts.docker.networks) if (isManagedNetwork(n.labels) && !n.configOnly) names.add(n.name);
  for (const i of facts.interfaces) {
    const network = networkOfShimAlias(i.alias);
    if (network) names.add(network);
  }
  return [...names].sort();
}
