/**
 * What a Compose-declared network must look like in Docker for Compose to
 * take it as its own, and how an `external: true` network is planned.
 *
 * What the Compose versions do with an existing network of the expected name,
 * read from their source:
 * - Compose v2.19–v2.40, docker/compose `pkg/compose/create.go`
 *   resolveOrCreateNetwork (tag v2.39.4): an error when the label
 *   `com.docker.compose.network` is not the network's key; a warning when
 *   `com.docker.compose.project` is missing or names another project; the
 *   network is removed and re-created when a `com.docker.compose.config-hash`
 *   label is present and differs from its own hash of the file, and adopted as
 *   it is when there is no such label. `down` (pkg/compose/down.go) removes
 *   networks carrying the project and network labels.
 * - Compose 1.29, `compose/network.py` check_remote_network_config: "needs to be
 *   recreated" when the driver or any driver option (`Options`, compared key by
 *   key) differs from the file; user labels that differ only warn. Its IPAM
 *   comparison (check_remote_ipam_config) is meant to compare subnet, gateway,
 *   ip_range and aux address names, but converts the already converted config
 *   again and finds no entries, so in practice IPAM is not compared.
 *
 * So the network gets the project and network labels (plus the file's own
 * `labels:`), no config-hash label, and exactly the driver options the file
 * states: `parent` is added only when the file does not name it (a macvlan
 * network without a parent would not be on the LAN at all).
 */
import type { DesiredNetwork } from '../model/desired.js';
import type { DockerNetworkFact } from '../model/facts.js';
import { MacvlanError } from '../model/errors.js';
import { formatAddress, formatCidr } from '../net/address.js';
import { COMPOSE_LABEL_NETWORK, COMPOSE_LABEL_PROJECT, composeLabels } from '../config/compose-project.js';

export function composeDockerLabels(desired: DesiredNetwork): Record<string, string> {
  const c = desired.compose;
  if (!c) return {};
  return { ...c.labels, ...composeLabels(c.project, c.key) };
}

/** Driver options for a Compose network: the file's, and the parent and mode only where the file leaves them out. */
export function composeDriverOptions(desired: DesiredNetwork, parent: string): Record<string, string> {
  const opts = { ...desired.compose!.driverOpts };
  if (opts.parent === undefined) opts.parent = parent;
  if (opts.macvlan_mode === undefined && desired.mode !== 'bridge') opts.macvlan_mode = desired.mode;
  return opts;
}

/**
 * An external network planned from what Docker has: its parent, subnets,
 * ip-ranges and aux addresses are the facts; the declaration adds only host
 * access (shim name, its address, persistence). A shim address the network
 * does not already reserve (aux address `host`) must be given explicitly and
 * lie outside the ip-range, since Docker cannot be told to reserve it.
 */
export function externalAsItExists(desired: DesiredNetwork, existing: DockerNetworkFact | undefined): DesiredNetwork {
  const where = desired.origins.name ?? desired.name;
  if (!existing) {
    throw new MacvlanError(
      'CONFIG_INVALID',
      `${where}: network ${desired.name} is external: true, but Docker has no network of that name; create it first (docker network create -d macvlan …), or let Compose create it by removing external: true`,
      { network: desired.name },
    );
  }
  if (existing.driver !== 'macvlan') {
    throw new MacvlanError('CONFIG_INVALID', `${where}: external network ${desired.name} has driver ${existing.driver}, not macvlan; macvlanctl gives host access only to macvlan networks`, {
      network: desired.name,
    });
  }
  const out: DesiredNetwork = { ...desired, auxAddresses: [], avoid: [] };
  if (existing.parent) out.parent = existing.parent;
  out.mode = (existing.macvlanMode as DesiredNetwork['mode'] | undefined) ?? 'bridge';
  const origins = { ...desired.origins };
  delete out.ipv6;
  for (const s of existing.subnets) {
    if (!s.subnet) continue;
    const family = s.subnet.family;
    const declared = family === 4 ? desired.ipv4 : desired.ipv6;
    if (!s.ipRange) {
      throw new MacvlanError(
        'CONFIG_INVALID',
        `${where}: external network ${desired.name} has no ip-range in ${formatCidr(s.subnet)}, so Docker may hand out any address of the subnet and there is no range to route through a shim; re-create it with --ip-range (macvlanctl apply without external: true does that), or set host_access: false`,
        { network: desired.name, subnet: formatCidr(s.subnet) },
      );
    }
    const host = s.auxAddresses.host;
    const hostAddress = host ?? (declared?.hostAddress !== 'auto' ? declared?.hostAddress : undefined);
    const key = family === 4 ? '' : 'ipv6.';
    if (!hostAddress && desired.hostAccess) {
      throw new MacvlanError(
        'CONFIG_INVALID',
        `${where}: external network ${desired.name} reserves no address for the host (aux address host) in ${formatCidr(s.subnet)}; give the shim an address outside its ip-range ${formatCidr(s.ipRange)} that no other machine uses, with x-macvlanctl: {host_access: {address: …}}`,
        { network: desired.name },
      );
    }
    const fam = {
      subnet: s.subnet,
      ...(s.gateway ? { gateway: s.gateway } : {}),
      ipRange: { kind: 'explicit' as const, cidr: s.ipRange },
      ...(hostAddress ? { hostAddress } : {}),
    };
    if (family === 4) out.ipv4 = fam;
    else out.ipv6 = fam;
    for (const f of ['subnet', 'gateway', 'ipRange']) origins[`${key}${f}`] = `external network ${desired.name} as Docker has it`;
    if (host) origins[`${key}hostAddress`] = `external network ${desired.name}: aux address host ${formatAddress(host)}`;
    for (const [name, address] of Object.entries(s.auxAddresses)) if (name !== 'host') out.auxAddresses.push({ name, address });
  }
  out.origins = origins;
  return out;
}

/** Whether Docker labels say Compose made this network for this project and key. */
export function isComposeNetworkOf(labels: Record<string, string>, c: { project: string; key: string }): boolean {
  return labels[COMPOSE_LABEL_PROJECT] === c.project && labels[COMPOSE_LABEL_NETWORK] === c.key;
}
