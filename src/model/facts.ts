/**
 * Facts read from the system. Gathered by src/system, consumed by the pure planner.
 */
import type { Cidr, InterfaceAddress, IpAddress } from './address.js';
import type { ManagerFacts } from './manager-facts.js';
import type { LanScan, LanScanSource } from './lan.js';
import type { PlannedPersistence } from './plan.js';
import type { SwarmSelf } from './swarm.js';

export type LinkKind = 'ethernet' | 'veth' | 'bridge' | 'bond' | 'vlan' | 'macvlan' | 'ipvlan' | 'loopback' | 'wireguard' | 'tun' | 'dummy' | 'other';

export interface InterfaceFact {
  name: string;
  index: number;
  kind: LinkKind;
  /** The raw `linkinfo.info_kind` (or undefined for plain hardware NICs). */
  infoKind?: string;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** Kernel operstate: UP, DOWN, UNKNOWN, LOWERLAYERDOWN, … */
  operState: string;
  /** Has a carrier (LOWER_UP). */
  lowerUp: boolean;
  mtu: number;
  mac?: string;
  /** Name of the master device when this is enslaved (bridge port, bond member). */
  master?: string;
  masterKind?: LinkKind;
  /** For macvlan/vlan links: the parent device. */
  link?: string;
  macvlanMode?: string;
  /**
   * For macvlan links: whether net.ipv4.conf.IF.arp_notify is on (the kernel
   * announces the link's address by gratuitous ARP when it comes up).
   * Undefined when not read (other kinds of link, or /proc unreadable).
   */
  arpNotify?: boolean;
  /** Interface alias (ifalias): we mark our shims with it. */
  alias?: string;
  /**
   * For macvlan links (shims) only: whether the kernel answers neighbour solicitations for
   * proxied addresses on it (net.ipv6.conf.IF.proxy_ndp and .forwarding both 1).
   */
  proxyNdp?: boolean;
  wireless: boolean;
  addresses: InterfaceAddress[];
}

export interface RouteFact {
  family: 4 | 6;
  /** undefined for the default route */
  destination?: Cidr;
  gateway?: IpAddress;
  device?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
  /** Source address hint (prefsrc). */
  source?: IpAddress;
  /**
   * A route that delivers nothing (absent for ordinary unicast routes). IPv6
   * routes read from /proc cannot tell the four apart and say `reject`.
   */
  type?: RejectRouteType;
}

/** Route types that drop or bounce traffic to their destination instead of delivering it. */
export const REJECT_ROUTE_TYPES = ['blackhole', 'unreachable', 'prohibit', 'throw'] as const;
export type RejectRouteType = (typeof REJECT_ROUTE_TYPES)[number] | 'reject';

export interface DockerSubnetFact {
  subnet?: Cidr;
  gateway?: IpAddress;
  ipRange?: Cidr;
  auxAddresses: Record<string, IpAddress>;
  /** Texts as the engine reported them, kept for display if parsing failed. */
  raw: Record<string, unknown>;
}

/** A container's Compose project and service, from its com.docker.compose.* labels. */
export interface ComposeMembership {
  project: string;
  service: string;
}

export interface DockerNetworkFact {
  id: string;
  name: string;
  driver: string;
  scope: string;
  parent?: string;
  macvlanMode?: string;
  labels: Record<string, string>;
  options: Record<string, string>;
  subnets: DockerSubnetFact[];
  enableIPv6: boolean;
  containers: { id: string; name: string; ipv4?: IpAddress; ipv6?: IpAddress; mac?: string; compose?: ComposeMembership }[];
  configOnly: boolean;
  configFrom?: string;
  /** created --attachable (standalone containers may join it); absent when not */
  attachable?: boolean;
}

export type DockerFacts =
  | {
      available: true;
      endpoint: string;
      apiVersion: string;
      engineVersion: string;
      networks: DockerNetworkFact[];
      /** Which swarm node this engine is (/info), read only when a declared network has `swarm:` (#13). */
      swarm?: SwarmSelf;
    }
  /** `code`: the error's code (NOT_PERMITTED: the socket refused us), for decisions; `reason` is for people. */
  | { available: false; endpoint: string; reason: string; code?: string };

/** A file under the target root that carries our header (or our unit's enable symlink). */
export interface ManagedFile {
  /** Path as on the target root, e.g. /etc/systemd/network/10-macvlanctl-lan.netdev. */
  path: string;
  /** The network named in its header. */
  network: string;
  content?: string;
  mode?: number;
  /** For a symlink: where it points. */
  symlink?: string;
}

/** What decides how the host side is made to survive a reboot. */
export interface PersistenceFacts {
  /** Our files already on the host. */
  managed: ManagedFile[];
  /** argv that runs this macvlanctl, absolute (for the systemd unit). */
  selfCommand: string[];
  /** What the network managers' files and state say (src/gather/persist-facts.ts); decides --persist auto. */
  managers?: ManagerFacts;
  /**
   * The persistence apply recorded for each network (its record under
   * var/lib/macvlanctl). A backend whose files are all still in place as
   * recorded is kept without detecting again: detection is the slowest part
   * of gathering, and a no-op apply should not pay for it.
   */
  recorded?: Record<string, { parent: string; persistence: PlannedPersistence }>;
  /** Fingerprint of the managers' configuration now (src/gather/persist-evidence.ts); a recorded backend is kept only while it matches. */
  evidence?: string;
}

/** An IPv6 proxy neighbour entry (`ip -6 neigh add proxy ADDRESS dev DEVICE`). */
export interface ProxyNeighbourFact {
  address: IpAddress;
  device: string;
}

export interface HostFacts {
  interfaces: InterfaceFact[];
  routes: RouteFact[];
  /** IPv6 proxy neighbour entries; absent in fixtures that predate them (read as none). */
  proxies6?: ProxyNeighbourFact[];
  docker: DockerFacts;
  /** Stable identity of this host (machine-id or hostname), for deriving shim MAC addresses. */
  hostId: string;
  /** What LAN scans saw (src/gather/lan-for-plan.ts); absent when none was wanted (--no-scan, nothing new to place). */
  lan?: LanFacts;
  /**
   * The MAC of each applied network's shim, from apply's records
   * (var/lib/macvlanctl): a shim keeps one MAC for life, even when the parent
   * it was derived from is replaced by one with another MAC.
   */
  appliedShimMacs?: Record<string, string>;
  /** Persistence files and managers under --root; absent in fixtures that predate persistence. */
  persistence?: PersistenceFacts;
}

/** The LAN as scanned for the planner: live hosts and DHCP offers per parent. */
export interface LanFacts {
  /** At most one scan per parent: fresh from the scan cache or just made. */
  scans: LanScan[];
  /** Parents whose LAN should have been scanned but was not (no root, scan failed), and why. */
  skipped: { parent: string; subnet: string; reason: string; fix?: string }[];
  /** One per scan in `scans`: taken now or cached, how old, what was re-probed. */
  sources?: LanScanSource[];
}
