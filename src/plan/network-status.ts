/**
 * What the host has of one network we manage, compared with what apply
 * recorded (or, without a record, what the Docker labels say): the Docker
 * network, the shim with its address, MAC and routes, the containers. Pure:
 * `status` and `doctor` both start from it, after gathering the facts.
 */
import type { DockerNetworkFact, HostFacts, InterfaceFact } from '../model/facts.js';
import type { DhcpPoolEstimate } from '../model/lan.js';
import { type IpAddress, formatAddress, formatCidr, parseAddress } from '../net/address.js';
import type { NetworkState } from '../model/record.js';
import { LABEL_HOST_ADDRESS6, isManagedNetwork } from '../model/labels.js';
import { hostAddressesToProxy, proxiesOn } from './proxy-ndp.js';
import { findOwnShim, shimOnRecord } from './shim-identity.js';
import { networkOfShimAlias, shimAlias } from '../model/labels.js';
import { parentWarnings } from './parent.js';
import { networkFromLabels } from './network-from-labels.js';
import { hostSideChanges } from './plan-network.js';
import type { Change, PlannedNetwork } from '../model/plan.js';
import { MacvlanError } from '../model/errors.js';

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

import type { FleetView } from './swarm-fleet.js';

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
  /** A swarm network's part on this node (#13): which node, its slice; `fleet` on a manager only. */
  swarmNode?: { node: string; manager: boolean; slice?: string; configOnly: string };
  /** The fleet view of a swarm network (#13), on a manager: every node, its slice, its tasks, what is wrong. */
  swarm?: FleetView;
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
  const s4 = net?.subnets.find((s) => s.subnet?.family === 4);
  const s6 = net?.subnets.find((s) => s.subnet?.family === 6);
  // What the shim should be: from apply's record, else the Docker labels, else whatever carries our alias.
  const onRecord = shimOnRecord(state?.network.shim, net);
  const shimName = onRecord.interface ?? facts.interfaces.find((i) => i.alias === shimAlias(name))?.name;
  const shim = shimName ? findOwnShim(name, facts.interfaces, { interface: shimName, mac: onRecord.mac }) : undefined;
  const { address: expectedAddress, address6: expectedAddress6, mac: expectedMac } = onRecord;
  const shimAddress = shimHostAddress(shim, 4, expectedAddress);
  const shimAddress6 = shimHostAddress(shim, 6, expectedAddress6);
  // Without its parent up, neither the containers nor the shim reach the LAN, whatever the shim's own flags say.
  const parentName = state?.network.parent ?? net?.parent;
  const parent = parentName ? facts.interfaces.find((i) => i.name === parentName) : undefined;
  const problems = [...dockerProblems(name, net, facts, state), ...parentProblems(parentName, parent)];
  // The shim's problems are the host-side diff apply and `up` would act on (hostSideChanges), which doctor reads too.
  const expected = state?.network ?? (net ? networkFromLabels(net) : undefined);
  if (expected?.shim && !(parentName && !parent)) problems.push(...shimProblems(expected, facts, shim !== undefined));
  else if (shimName && !shim) problems.push(`shim ${shimName} is missing`);
  // Containers reach the host's own IPv6 addresses through the shim's proxy NDP (src/plan/proxy-ndp.ts).
  const proxied = shim ? proxiesOn(facts, shim.name) : [];
  const hostAddress6 = shim && s6?.subnet && expectedAddress6 ? hostAddressesToProxy(parent, s6.subnet, expectedAddress6)[0] : undefined;
  const status: NetworkStatus = {
    name,
    auxAddresses: Object.fromEntries(Object.entries(s4?.auxAddresses ?? {}).map(([k, v]) => [k, formatAddress(v)])),
    docker: { present: net !== undefined, ...(net ? { id: net.id } : {}) },
    shim: {
      present: shim !== undefined,
      up: shim?.up ?? false,
      routes: shim ? shimRoutes(shim, facts) : [],
      ...(shimName ? { interface: shimName } : {}),
      ...(shimAddress ? { address: formatAddress(shimAddress.address) } : {}),
      ...(shimAddress6 ? { address6: formatAddress(shimAddress6.address) } : {}),
      ...(shim?.mac ? { mac: shim.mac } : {}),
      ...(expectedMac ? { expectedMac } : {}),
      ...(proxied.length ? { proxy6: proxied } : {}),
    },
    containers: (net?.containers ?? []).map(containerStatus),
    persistence: (facts.persistence?.managed ?? []).filter((f) => f.network === name).map((f) => f.path),
    healthy: problems.length === 0,
    problems,
  };
  if (hostAddress6) status.hostAddress6 = hostAddress6;
  addDockerShape(status, net, s4, s6);
  return status;
}

type Shim = NonNullable<ReturnType<typeof findOwnShim>>;
type Subnet = DockerNetworkFact['subnets'][number];

/** The shim's routes worth showing: not the kernel's own (fe80::/64 on every link, a /32 or /128 for the shim's own address). */
function shimRoutes(shim: Shim, facts: HostFacts): string[] {
  const own = new Set(shim.addresses.map((a) => `${formatAddress(a.address)}/${a.address.family === 4 ? 32 : 128}`));
  return facts.routes
    .filter((r) => r.device === shim.name && r.destination && r.protocol !== 'kernel')
    .map((r) => formatCidr(r.destination!))
    .filter((d) => !d.startsWith('fe80:') && !own.has(d));
}

/** The expected host address if the shim has it (another /32 or /128 may sit there too), else the first one. */
function shimHostAddress(shim: Shim | undefined, family: 4 | 6, expected: string | undefined) {
  const own = shim?.addresses.filter((a) => a.address.family === family && a.prefix === (family === 4 ? 32 : 128)) ?? [];
  return own.find((a) => expected !== undefined && sameAddress(a.address, expected)) ?? own[0];
}

/** What is wrong on Docker's side: the network gone or unreachable, or its IPv6 off when it should be on. */
function dockerProblems(name: string, net: DockerNetworkFact | undefined, facts: HostFacts, state?: NetworkState): string[] {
  const problems: string[] = [];
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
  return problems;
}

/** The parent missing or down. */
function parentProblems(parentName: string | undefined, parent: InterfaceFact | undefined): string[] {
  if (parentName && !parent) return [`parent ${parentName} is missing`];
  const parentDown = parent ? parentWarnings(parent).find((w) => w.code === 'PARENT_DOWN') : undefined;
  return parentDown ? [`parent ${parentDown.message}`] : [];
}

/** A container on the network as status lists it: its name and addresses. */
function containerStatus(ct: DockerNetworkFact['containers'][number]): ContainerStatus {
  return {
    name: ct.name,
    ...(ct.compose ? { compose: { ...ct.compose } } : {}),
    ...(ct.ipv4 ? { address: formatAddress(ct.ipv4) } : {}),
    ...(ct.ipv6 ? { address6: formatAddress(ct.ipv6) } : {}),
    ...(ct.mac ? { mac: ct.mac } : {}),
  };
}

/** The Docker network's parent, mode and subnets, in the order the status has always listed them. */
function addDockerShape(status: NetworkStatus, net: DockerNetworkFact | undefined, s4: Subnet | undefined, s6: Subnet | undefined): void {
  const range = s4?.ipRange ? formatCidr(s4.ipRange) : undefined;
  const range6 = s6?.ipRange ? formatCidr(s6.ipRange) : undefined;
  if (net?.parent) status.parent = net.parent;
  if (net?.macvlanMode || net) status.mode = net?.macvlanMode ?? 'bridge';
  if (s4?.subnet) status.subnet = formatCidr(s4.subnet);
  if (s4?.gateway) status.gateway = formatAddress(s4.gateway);
  if (range) status.ipRange = range;
  if (s6?.subnet) {
    status.ipv6 = { subnet: formatCidr(s6.subnet), ...(s6.gateway ? { gateway: formatAddress(s6.gateway) } : {}), ...(range6 ? { ipRange: range6 } : {}) };
  }
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

/**
 * What differs on the host side, in status's words: each pending change of
 * hostSideChanges (plan/plan-network.ts). A link to make or re-make takes its
 * addresses, state and routes with it, so only its cause is named.
 */
function shimProblems(expected: PlannedNetwork, facts: HostFacts, found: boolean): string[] {
  let changes: Change[];
  try {
    changes = hostSideChanges(expected, facts).filter((c) => c.action !== 'noop');
  } catch (e) {
    if (!(e instanceof MacvlanError)) throw e;
    // An interface of that name that is not ours: our shim is missing.
    return [found ? e.message : `shim ${expected.shim!.interface} is missing`];
  }
  const link = changes.find((c) => c.kind === 'shim-link');
  return (link ? [link] : changes).flatMap((c) => shimProblem(c, expected));
}

function shimProblem(c: Change, n: PlannedNetwork): string[] {
  const bare = (cidr: string) => cidr.slice(0, cidr.indexOf('/'));
  switch (c.kind) {
    case 'shim-link':
      if (c.action === 'create') return [`shim ${c.interface} is missing`];
      return (c.differences ?? []).length ? linkDifferences(c) : [`shim ${c.interface} must be re-created`];
    case 'shim-address':
      if (c.action === 'delete') return [`shim ${c.interface} still holds the stale address ${c.address}`];
      return [`shim ${c.interface} lacks its ${c.address.includes(':') ? 'IPv6 ' : ''}address ${bare(c.address)}`];
    case 'shim-mtu':
      return [`shim ${c.interface} has MTU ${c.before.mtu}, its parent ${n.parent}'s is ${c.after.mtu}`];
    case 'shim-arp-notify':
      return [`shim ${c.interface} has arp_notify off: it is not announced by gratuitous ARP when it comes up`];
    case 'shim-up':
      return [`shim ${c.interface} is down`];
    case 'shim-route':
      return c.action === 'delete' ? [`shim ${c.interface} still routes ${c.destination}, not this network's range`] : [`route ${c.destination} via ${c.interface} is missing`];
    case 'shim-proxy-ndp':
      return c.action === 'delete'
        ? [`shim ${c.interface} still answers for ${c.address} (proxy NDP), which ${n.parent} no longer has`]
        : [`shim ${c.interface} does not answer for the host's address ${c.address} (proxy NDP)`];
    default:
      return [c.summary];
  }
}

/** A shim to re-make, by what differs: its mode, its MAC, its parent. */
function linkDifferences(c: Extract<Change, { kind: 'shim-link' }>): string[] {
  const out: string[] = [];
  const before = c.before ?? {};
  const after = c.after;
  if (after && before.mode !== undefined && before.mode !== after.mode) out.push(`shim ${c.interface} is in macvlan mode ${before.mode}, expected ${after.mode}`);
  if (after && before.mac !== after.mac) out.push(`shim ${c.interface} has MAC ${before.mac ?? '?'}, expected ${after.mac}`);
  if (after && before.parent !== after.parent) out.push(`shim ${c.interface} is on ${before.parent ?? '?'}, expected ${after.parent}`);
  return out.length ? out : (c.differences ?? []).map((d) => `shim ${c.interface}: ${d}`);
}
