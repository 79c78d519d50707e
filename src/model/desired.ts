/**
 * Desired state: what the user declared, from flags, macvlanctl.yaml or a
 * Compose file. Values are already parsed (addresses are BigInt-backed), but not
 * yet checked against each other or the host: that is the planner's job.
 */
import type { Cidr, IpAddress } from '../net/address.js';
import type { Interval } from '../net/intervals.js';

export const MACVLAN_MODES = ['bridge', 'private', 'vepa', 'passthru'] as const;
export type MacvlanMode = (typeof MACVLAN_MODES)[number];

export const PERSIST_BACKENDS = ['auto', 'networkd', 'networkmanager', 'ifupdown', 'systemd', 'none'] as const;
export type PersistBackend = (typeof PERSIST_BACKENDS)[number];

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

export interface AuxAddress {
  readonly name: string;
  readonly address: IpAddress;
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
  /**
   * Where each field came from, for messages: `--gateway`, or
   * `macvlanctl.yaml:4:13 networks.lan.gateway`. Keys are field names such as
   * `parent`, `subnet`, `gateway`, `ipRange`, `ipv6.subnet`, `auxAddresses.NAME`, `avoid.N`
   * (src/config/origins.ts names a field that has none).
   */
  origins: Record<string, string>;
}
