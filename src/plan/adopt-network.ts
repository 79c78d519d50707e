/**
 * Host access for a Docker macvlan network made without an ip-range (issue
 * 12): Pi-hole at a static address in the middle of the subnet, a network
 * made by hand years ago. Docker may hand out any address of its subnet, so
 * there is no range to route through a shim, and a route for the whole subnet
 * would cut the host off its LAN. Such a network is adopted as it is (never
 * re-created or relabelled) and reached with one /32 route per attached
 * container through the shim, which `up` and `watch` keep equal to the
 * containers attached at the time.
 *
 * The shim's address: Docker cannot add an aux-address to an existing
 * network, so no address of the subnet can be reserved for the shim, and any
 * free one may be handed to the next container. The one address Docker can
 * never give a container without already colliding with this very host is the
 * host's own address on the parent: the shim carries it again as a /32 (as
 * Unraid does; verified in the lab). It takes nothing new from the LAN, needs
 * no scan, and containers reach the host at the address they already know.
 * Pure.
 */
import type { DesiredNetwork } from '../model/desired.js';
import type { DockerFacts, DockerNetworkFact, HostFacts, InterfaceFact } from '../model/facts.js';
import { MacvlanError } from '../model/errors.js';
import type { Change, PlannedNetwork } from '../model/plan.js';
import { type Cidr, type IpAddress, cidrContains, formatAddress, formatCidr, isLinkLocal6 } from '../net/address.js';

/** Whether `apply` should adopt the existing network rather than plan (and then refuse to replace) one with a carved range. */
export function isAdoptable(desired: DesiredNetwork, existing: DockerNetworkFact | undefined): boolean {
  if (!existing || existing.driver !== 'macvlan' || desired.compose || !desired.hostAccess) return false;
  const v4 = existing.subnets.find((s) => s.subnet?.family === 4);
  if (!v4?.subnet || v4.ipRange) return false;
  // An explicit range or host address asks for a network made to measure (apply --replace re-creates it).
  return desired.ipv4.ipRange === undefined && (desired.ipv4.hostAddress === undefined || desired.ipv4.hostAddress === 'auto');
}

/**
 * The routes of the containers attached to the network: a /32 per IPv4 address, and with `ipv6` a /128
 * per IPv6 address (sorted, IPv4 first, so a plan is stable).
 */
export function containerHostRoutes(containers: readonly { ipv4?: IpAddress | undefined; ipv6?: IpAddress | undefined }[] | undefined, opts: { ipv6?: boolean } = {}): string[] {
  const v4 = new Map<bigint, string>();
  const v6 = new Map<bigint, string>();
  for (const c of containers ?? []) {
    if (c.ipv4?.family === 4) v4.set(c.ipv4.value, `${formatAddress(c.ipv4)}/32`);
    if (opts.ipv6 && c.ipv6?.family === 6) v6.set(c.ipv6.value, `${formatAddress(c.ipv6)}/128`);
  }
  const sorted = (m: Map<bigint, string>) => [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, r]) => r);
  return [...sorted(v4), ...sorted(v6)];
}

/** Whether `route` is a per-container one: a /32, or a /128 other than the shim's own address. */
function isHostRoute(route: string, ownAddress6: string | undefined): boolean {
  return route.endsWith('/32') || (route.endsWith('/128') && route !== `${ownAddress6}/128` && !route.startsWith('fe80:'));
}

/**
 * The network with its per-container routes set to `routes` (the containers attached now), or, when the
 * engine cannot be asked (`undefined`), to the /32 routes the shim has now, so nothing is added or taken
 * away on a guess. Networks with an ip-range are returned as they are.
 */
export function withContainerRoutes(n: PlannedNetwork, routes: readonly string[] | undefined, presentOnShim: readonly string[]): PlannedNetwork {
  if (!n.shim?.containerRoutes) return n;
  const wanted = routes ?? presentOnShim.filter((r) => isHostRoute(r, n.shim?.address6));
  return { ...n, shim: { ...n.shim, routes: [...wanted] } };
}

/** The parent's own address in `subnet` (its first, the primary; for IPv6 not a link-local one): the adopted shim's address. */
export function hostAddressOn(parent: InterfaceFact, subnet: Cidr): string | undefined {
  const a = parent.addresses.find((x) => x.address.family === subnet.family && cidrContains(subnet, x.address) && !isLinkLocal6(x.address));
  return a ? formatAddress(a.address) : undefined;
}

export interface Adoption {
  network: PlannedNetwork;
  docker: Change;
  notes: string[];
}

/**
 * The planned network for an adopted one, from Docker's facts. Refuses (exit 2) what cannot be adopted: a
 * parent other than the one declared, a subnet or gateway other than declared, a parent without an address
 * in the subnet.
 */
export function planAdoption(desired: DesiredNetwork, existing: DockerNetworkFact, parent: InterfaceFact, shim: { interface: string; mac: string }): Adoption {
  const where = `network ${desired.name}`;
  const v4 = existing.subnets.find((s) => s.subnet?.family === 4)!;
  const subnet = v4.subnet!;
  if (existing.parent && existing.parent !== parent.name) {
    throw new MacvlanError('CONFIG_INVALID', `${where}: Docker's network ${existing.name} is on parent ${existing.parent}, not ${parent.name}; give --parent ${existing.parent} to adopt it`, {
      network: desired.name,
    });
  }
  if (desired.ipv4.subnet && formatCidr(desired.ipv4.subnet) !== formatCidr(subnet)) {
    throw new MacvlanError('CONFIG_INVALID', `${where}: Docker's network has subnet ${formatCidr(subnet)}, not ${formatCidr(desired.ipv4.subnet)}; an adopted network is taken as it is`, { network: desired.name });
  }
  if (desired.ipv4.gateway && v4.gateway && formatAddress(desired.ipv4.gateway) !== formatAddress(v4.gateway)) {
    throw new MacvlanError('CONFIG_INVALID', `${where}: Docker's network has gateway ${formatAddress(v4.gateway)}, not ${formatAddress(desired.ipv4.gateway)}; an adopted network is taken as it is`, {
      network: desired.name,
    });
  }
  const address = hostAddressOn(parent, subnet);
  if (!address) {
    throw new MacvlanError(
      'CONFIG_INVALID',
      `${where}: Docker's network ${existing.name} has no ip-range, and ${parent.name} has no address in ${formatCidr(subnet)} for the shim to share (the only address Docker never hands out without colliding with this host already). ` +
        `Give ${parent.name} its LAN address, or re-create the network with an ip-range (apply --ip-range … --replace, with no container attached)`,
      { network: desired.name, subnet: formatCidr(subnet) },
    );
  }
  // IPv6 the same way, when Docker gives the containers IPv6 addresses and the parent has one in that subnet.
  const s6 = existing.enableIPv6 ? existing.subnets.find((s) => s.subnet?.family === 6) : undefined;
  const address6 = s6?.subnet ? hostAddressOn(parent, s6.subnet) : undefined;
  const routes = containerHostRoutes(existing.containers, { ipv6: address6 !== undefined });
  const gateway = v4.gateway ? formatAddress(v4.gateway) : '';
  const formatAux = (aux: Record<string, IpAddress>) => Object.fromEntries(Object.entries(aux).map(([k, v]) => [k, formatAddress(v)]));
  // Docker's IPAM as it is, every subnet, so that comparing it with Docker (doctor) finds nothing to change.
  const ipam = existing.subnets
    .filter((s) => s.subnet)
    .map((s) => ({ Subnet: formatCidr(s.subnet!), Gateway: s.gateway ? formatAddress(s.gateway) : '', IPRange: s.ipRange ? formatCidr(s.ipRange) : '', AuxiliaryAddresses: formatAux(s.auxAddresses) }));
  const network: PlannedNetwork = {
    name: desired.name,
    parent: parent.name,
    mode: (existing.macvlanMode as PlannedNetwork['mode'] | undefined) ?? 'bridge',
    subnet: formatCidr(subnet),
    gateway,
    // None: Docker may use the whole subnet. Host access goes per container.
    ipRange: '',
    ipRangeSource: 'explicit',
    auxAddresses: Object.fromEntries(Object.entries(v4.auxAddresses).map(([k, v]) => [k, formatAddress(v)])),
    persist: desired.persist,
    // Never relabelled: what Docker has stays as it is.
    labels: { ...existing.labels },
    docker: {
      driver: 'macvlan',
      options: { ...existing.options },
      ipam,
      enableIPv6: existing.enableIPv6,
    },
    shim: { interface: shim.interface, address, ...(address6 ? { address6 } : {}), mac: shim.mac, mode: (existing.macvlanMode as PlannedNetwork['mode'] | undefined) ?? 'bridge', routes, containerRoutes: true },
  };
  const docker: Change = {
    kind: 'docker-network',
    action: 'noop',
    network: desired.name,
    summary: `docker network ${existing.name} (macvlan on ${parent.name}, ${formatCidr(subnet)}${gateway ? ` gateway ${gateway}` : ''}, no ip-range)`,
    reason: 'adopted as it is: it has no ip-range, so the host reaches each attached container by a /32 route through the shim',
  };
  const notes = [
    `${desired.name}: adopted without an ip-range; the shim ${shim.interface} shares the host's address ${address} (/32) and routes each attached container's address (${routes.length ? routes.join(', ') : 'none attached now'}); watch keeps those routes as containers come and go`,
  ];
  // The persisted files hold the shim, never the routes (containers come and go): at boot the network
  // manager brings the shim back before Docker starts the containers, so only watch puts their routes back.
  notes.push(`${desired.name}: the containers' routes are not persisted; after a reboot they come back only while macvlanctl watch runs (install it once: macvlanctl watch --install)`);
  if (s6?.subnet && !address6) notes.push(`${desired.name}: ${parent.name} has no IPv6 address in ${formatCidr(s6.subnet)}, so IPv6 is not routed through the shim (IPv4 only)`);
  return { network, docker, notes };
}

/** The per-container routes through `shim` now (what up and watch leave alone when the engine cannot be asked). */
export function routesOnShim(facts: Pick<HostFacts, 'routes'>, shim: string, ownAddress6?: string): string[] {
  return facts.routes
    .filter((r) => r.device === shim && r.destination && r.protocol !== 'kernel')
    .map((r) => formatCidr(r.destination!))
    .filter((r) => isHostRoute(r, ownAddress6));
}

/**
 * An adopted network as it should be now: its per-container routes are those of the containers Docker
 * has attached (from the engine's facts), or the ones present when the engine is not reachable. Any
 * other network is returned as it is. Used by up, watch, status and doctor alike.
 */
export function withAttachedContainers(n: PlannedNetwork, docker: DockerFacts | undefined, facts: Pick<HostFacts, 'routes'>): PlannedNetwork {
  if (!n.shim?.containerRoutes) return n;
  const routes = docker?.available ? containerHostRoutes(docker.networks.find((x) => x.name === n.name)?.containers, { ipv6: n.shim.address6 !== undefined }) : undefined;
  return withContainerRoutes(n, routes, routesOnShim(facts, n.shim.interface, n.shim.address6));
}

/** A record read for status and doctor, with an adopted network's routes as they should be now. */
export function recordNow<S extends { network: PlannedNetwork }>(state: S | undefined, facts: Pick<HostFacts, 'routes' | 'docker'>): S | undefined {
  if (!state?.network.shim?.containerRoutes) return state;
  return { ...state, network: withAttachedContainers(state.network, facts.docker, facts) };
}
