/**
 * One subnet, one LAN: a Docker network that already has this network's
 * subnet (or an overlapping one) somewhere else — another parent, or a
 * bridge or other non-LAN driver — is refused. The host would have two
 * places to send those addresses, and Docker 20.10's IPAM shares the subnet's
 * address pool between both networks when an ip-range is given. Pure.
 */
import type { DesiredNetwork } from '../model/desired.js';
import type { DockerNetworkFact, HostFacts } from '../model/facts.js';
import { type Cidr, type Family, formatCidr } from '../net/address.js';
import { cidrToInterval, overlaps } from '../net/intervals.js';
import type { ProblemCollector } from '../model/collector.js';
import type { FamilyResult } from './plan-family.js';

/** Drivers that put containers on the parent's LAN: the same subnet there is the same LAN. */
const LAN_DRIVERS: ReadonlySet<string> = new Set(['macvlan', 'ipvlan']);

/** Where a network really sits: a swarm network takes its parent from its --config-only network. */
function parentOf(n: DockerNetworkFact, all: readonly DockerNetworkFact[]): string | undefined {
  if (n.parent) return n.parent;
  if (n.configFrom) return all.find((c) => c.name === n.configFrom)?.parent;
  return undefined;
}

export function checkSubnetElsewhere(
  desired: DesiredNetwork,
  parent: string,
  facts: HostFacts,
  families: [Family, FamilyResult | undefined][],
  problems: ProblemCollector,
  label: (k: string) => string,
): void {
  if (!facts.docker.available) return;
  const all = facts.docker.networks;
  for (const [family, r] of families) {
    if (!r) continue;
    const ours = cidrToInterval(r.subnet);
    for (const n of all) {
      // Its own Docker network (an update) and config-only networks (templates, no addresses of their own) are not "elsewhere".
      if (n.name === desired.name || n.configOnly) continue;
      const theirParent = parentOf(n, all);
      const sameLan = LAN_DRIVERS.has(n.driver) && theirParent === parent;
      if (sameLan) continue;
      const clash = n.subnets.map((s) => s.subnet).find((c): c is Cidr => c !== undefined && c.family === family && overlaps(cidrToInterval(c), ours));
      if (!clash) continue;
      const where = LAN_DRIVERS.has(n.driver) ? `a ${n.driver} network on ${theirParent ?? 'another parent'}` : `a ${n.driver} network`;
      problems.add(
        'RANGE_CONFLICT',
        `${label(family === 6 ? 'ipv6.subnet' : 'subnet')}: Docker network '${n.name}' (${where}) already has the subnet ${formatCidr(clash)}, which overlaps ${formatCidr(r.subnet)} on ${parent}; one subnet cannot be on two networks (the host could not tell where to send those addresses). Remove that network, or give this one its own subnet`,
        { network: n.name, subnet: formatCidr(clash), driver: n.driver, ...(theirParent ? { parent: theirParent } : {}) },
      );
    }
  }
}
