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
import { type Cidr, type IpAddress, cidrContains, formatAddress, formatCidr } from '../net/address.js';

/** Whether `apply` should adopt the existing network rather than plan (and then refuse to replace) one with a carved range. */
export function isAdoptable(desired: DesiredNetwork, existing: DockerNetworkFact | undefined): boolean {
  if (!existing || existing.driver !== 'macvlan' || desired.compose || !desired.hostAccess) return false;
  const v4 = existing.subnets.find((s) => s.subnet?.family === 4);
  if (!v4?.subnet || v4.ipRange) return false;
  // An explicit range or host address asks for a network made to measure (apply --replace re-creates it).
  return desired.ipv4.ipRange === undefined && (desired.ipv4.hostAddress === undefined || desired.ipv4.hostAddress === 'auto');
}

/** The /32 routes of the containers attached to the network (IPv4; sorted, so a plan is stable). */
export function containerHostRoutes(containers: readonly { ipv4?: IpAddress | undefined }[] | undefined): string[] {
  const out = new Set<string>();
  for (const c of containers ?? []) if (c.ipv4 && c.ipv4.family === 4) out.add(`${formatAddress(c.ipv4)}/32`);
  return [...out].sort(compareRoutes);
}

function compareRoutes(a: string, b: string): number {
  const n = (s: string) => s.split('/')[0]!.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  return n(a) - n(b);
}

/**
 * The network with its per-container routes set to `routes` (the containers attached now), or, when the
 * engine cannot be asked (`undefined`), to the /32 routes the shim has now, so nothing is added or taken
 * away on a guess. Networks with an ip-range are returned as they are.
 */
export function withContainerRoutes(n: PlannedNetwork, routes: readonly string[] | undefined, presentOnShim: readonly string[]): PlannedNetwork {
  if (!n.shim?.containerRoutes) return n;
  const wanted = routes ?? presentOnShim.filter((r) => r.endsWith('/32'));
  return { ...n, shim: { ...n.shim, routes: [...wanted] } };
}

/** The parent's own IPv4 address in `subnet` (its first, the primary): the adopted shim's address. */
export function hostAddressOn(parent: InterfaceFact, subnet: Cidr): string | undefined {
  const a = parent.addresses.find((x) => x.address.family === 4 && cidrContains(subnet, x.address));
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
  const routes = containerHostRoutes(existing.containers);
  const gateway = v4.gateway ? formatAddress(v4.gateway) : '';
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
      ipam: [{ Subnet: formatCidr(subnet), Gateway: gateway, IPRange: '', AuxiliaryAddresses: Object.fromEntries(Object.entries(v4.auxAddresses).map(([k, v]) => [k, formatAddress(v)])) }],
      enableIPv6: existing.enableIPv6,
    },
    shim: { interface: shim.interface, address, mac: shim.mac, mode: (existing.macvlanMode as PlannedNetwork['mode'] | undefined) ?? 'bridge', routes, containerRoutes: true },
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
  if (existing.enableIPv6) notes.push(`${desired.name}: IPv6 of an adopted network is not routed through the shim (IPv4 only)`);
  return { network, docker, notes };
}

/** The /32 routes through `shim` now (what up and watch leave alone when the engine cannot be asked). */
export function routesOnShim(facts: Pick<HostFacts, 'routes'>, shim: string): string[] {
  return facts.routes.filter((r) => r.device === shim && r.destination && r.destination.family === 4 && r.destination.prefix === 32 && r.protocol !== 'kernel').map((r) => formatCidr(r.destination!));
}

/**
 * An adopted network as it should be now: its per-container routes are those of the containers Docker
 * has attached (from the engine's facts), or the ones present when the engine is not reachable. Any
 * other network is returned as it is. Used by up, watch, status and doctor alike.
 */
export function withAttachedContainers(n: PlannedNetwork, docker: DockerFacts | undefined, facts: Pick<HostFacts, 'routes'>): PlannedNetwork {
  if (!n.shim?.containerRoutes) return n;
  const routes = docker?.available ? containerHostRoutes(docker.networks.find((x) => x.name === n.name)?.containers) : undefined;
  return withContainerRoutes(n, routes, routesOnShim(facts, n.shim.interface));
}

/** A record read for status and doctor, with an adopted network's routes as they should be now. */
export function recordNow<S extends { network: PlannedNetwork }>(state: S | undefined, facts: Pick<HostFacts, 'routes' | 'docker'>): S | undefined {
  if (!state?.network.shim?.containerRoutes) return state;
  return { ...state, network: withAttachedContainers(state.network, facts.docker, facts) };
}
