/**
 * Desired state: what the user declared, from flags, macvlanctl.yaml or a
 * Compose file. Values are already parsed (addresses are BigInt-backed), but not
 * yet checked against each other or the host: that is the planner's job.
 */
import type { Cidr, Interval, IpAddress } from './address.js';
import type { SwarmDeclaration } from './swarm.js';

export const MACVLAN_MODES = ['bridge', 'private', 'vepa', 'passthru'] as const;
export type MacvlanMode = (typeof MACVLAN_MODES)[number];

export const PERSIST_BACKENDS = ['auto', 'networkd', 'networkmanager', 'ifupdown', 'systemd', 'none'] as const;
export type PersistBackend = (typeof PERSIST_BACKENDS)[number];

/** The backends that write files: every PERSIST_BACKENDS value but the two choices auto and none. */
export const RENDER_BACKENDS = ['networkd', 'networkmanager', 'ifupdown', 'systemd'] as const;
export type RenderBackend = (typeof RENDER_BACKENDS)[number];

/** `--ip-range`: a CIDR, or `auto` / `auto/N` to carve a free block. */
export type IpRangeSpec = { kind: 'explicit'; cidr: Cidr } | { kind: 'auto'; prefix?: number };

export interface AddressRange {
  readonly family: 4 | 6;
  readonly interval: Interval;
  /** As the user wrote it, for messages. */
  readonly text: string;
}

export interface DesiredFamily {
  subnet?: Cidr;
  gateway?: IpAddress;
  ipRange?: IpRangeSpec;
  /** Shim address in this family: explicit, or `auto` (highest usable address of the ip-range). */
  hostAddress?: IpAddress | 'auto';
}

export interface StaticAddress {
  readonly service: string;
  readonly address: IpAddress;
  /** Where it is written, for messages. */
  readonly origin: string;
}

export interface AuxAddress {
  readonly name: string;
  readonly address: IpAddress;
}

/**
 * How a network declared in a Docker Compose file maps onto Compose's own
 * view of it, so that the network macvlanctl creates is the one Compose uses.
 */
export interface ComposeBinding {
  /** The Compose project name (resolved in Compose's order, see src/config/compose-project.ts). */
  project: string;
  /** The network's key under `networks:` (Compose's `com.docker.compose.network` label). */
  key: string;
  /** `external: true`: never created, replaced or relabelled; only given host access, as it exists. */
  external: boolean;
  /** `driver_opts` exactly as the file states them: Compose 1.29 refuses a network whose options differ. */
  driverOpts: Record<string, string>;
  /** The file's `labels:` for the network; Compose puts them on the network it creates. */
  labels: Record<string, string>;
  /** Why this network is left out of the plan (an external network without x-macvlanctl settings). */
  skipped?: string;
  /**
   * The file says `enable_ipv6: true`. Without it Compose creates the network
   * with IPv6 off (Compose 1.29 passes enable_ipv6 as the file has it), and
   * dockerd 20.10 then keeps the IPv6 ipam entry but gives no container an
   * IPv6 address: the file is incomplete for a dual-stack network.
   */
  enableIpv6?: boolean;
}

export interface DesiredNetwork {
  name: string;
  parent?: string;
  mode: MacvlanMode;
  ipv4: DesiredFamily;
  /** Present when the declaration has an IPv6 part. */
  ipv6?: DesiredFamily;
  /** Aux addresses other than the shim's own (`host`), which is kept in `ipv4/ipv6.hostAddress`. */
  auxAddresses: AuxAddress[];
  avoid: AddressRange[];
  hostAccess: boolean;
  shimInterface?: string;
  persist: PersistBackend;
  /** Present for a network read from a Docker Compose file. */
  compose?: ComposeBinding;
  /** Addresses Compose services are given on this network (ipv4_address/ipv6_address): the shim and a carved range keep clear of them. */
  staticAddresses?: StaticAddress[];
  /** `swarm:` (#13): one network across a Docker Swarm; this host applies its own node's part (src/plan/swarm-node.ts). */
  swarm?: SwarmDeclaration;
  /**
   * Where each field came from, for messages: `--gateway`, or
   * `macvlanctl.yaml:4:13 networks.lan.gateway`. Keys are field names such as
   * `parent`, `subnet`, `gateway`, `ipRange`, `ipv6.subnet`, `auxAddresses.NAME`, `avoid.N`
   * (src/config/origins.ts names a field that has none).
   */
  origins: Record<string, string>;
}
