/**
 * A network declaration as text, before parsing: what flags and files both
 * produce. Flags override file values field by field (see merge-raw.ts), then
 * to-desired.ts parses everything into the DesiredNetwork model.
 *
 * `origins` says where each field came from so that every later error can
 * point at it: `--gateway` for a flag, `macvlanctl.yaml:4:13 networks.lan.gateway`
 * for a file. Keys are the field names below ('subnet', 'ipv6.gateway',
 * 'auxAddresses.NAME', 'avoid.N', …); 'name' is the network's own origin.
 */
import type { ComposeBinding } from '../model/desired.js';
import type { RawSwarm } from './swarm-declaration.js';

export interface RawFamily {
  subnet?: string;
  gateway?: string;
  /** A CIDR, or `auto` / `auto/N`. */
  ipRange?: string;
  /** The shim's address: an IP, or `auto`. */
  hostAddress?: string;
}

export interface RawNetwork extends RawFamily {
  name: string;
  parent?: string;
  /** IPv6 part, when declared. */
  ipv6?: RawFamily;
  /** Docker aux addresses except `host` (which is the shim address, hostAddress). */
  auxAddresses?: Record<string, string>;
  /** `A-B`, a single address, or a CIDR. */
  avoid?: string[];
  mode?: string;
  hostAccess?: boolean;
  shimInterface?: string;
  persist?: string;
  /** Compose services' fixed addresses on this network (`services.S.networks.KEY.ipv4_address`/`ipv6_address`); origins `static.N`. */
  staticAddresses?: { service: string; address: string }[];
  /** Set for a network read from a Docker Compose file (see src/model/desired.ts ComposeBinding). */
  compose?: ComposeBinding;
  /** `swarm:` (#13); origins `swarm`, `swarm.nodes`, `swarm.nodes.N`, `swarm.nodes.N.parent`, `swarm.slice`, `swarm.attachable`. */
  swarm?: RawSwarm;
  origins: Record<string, string>;
}
