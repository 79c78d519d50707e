/**
 * Which LANs a plan needs to look at before it takes addresses. Pure.
 *
 * Only networks that will place addresses: one Docker does not have yet, or
 * has with other settings (an auto range being carved, an explicit range or
 * host address not yet applied). An applied network keeps its range and
 * needs no scan. The planner itself answers the question: a first plan
 * without the scan tells each network's parent, subnet and whether its
 * Docker network changes. If that plan fails, no scan is wanted (the real
 * plan fails the same way, and a scan only ever adds constraints).
 */
import type { DesiredNetwork } from '../model/desired.js';
import type { HostFacts } from '../model/facts.js';
import { ipv6NotAskable } from '../probe/scan-request.js';
import { computePlan } from '../plan/compute-plan.js';

export interface ScanTarget {
  parent: string;
  /** IPv4 subnet (CIDR text) of the networks to place on it. */
  subnet: string;
  /** The IPv4 gateway (text): with its MAC, it tells which LAN a cached scan was taken on. */
  gateway: string;
  /** The parent does not exist yet (a VLAN sub-interface that Docker creates with the network): nothing to scan before apply. */
  missing?: boolean;
  /** IPv6 subnet (CIDR text) of the first of them that has an IPv6 part: its neighbours are asked too. */
  subnet6?: string;
  /** The networks that need it. */
  networks: string[];
}

export function scanTargets(desired: readonly DesiredNetwork[], facts: HostFacts): ScanTarget[] {
  let plan;
  try {
    // --force: what a scan would refuse is not the question here, and facts.lan is left out.
    plan = computePlan([...desired], { ...facts, lan: undefined }, { force: true });
  } catch {
    return [];
  }
  const out: ScanTarget[] = [];
  for (const n of plan.networks) {
    const places = plan.changes.some((c) => c.kind === 'docker-network' && c.network === n.name && c.action !== 'noop');
    if (!places) continue;
    const same = out.find((t) => t.parent === n.parent && t.subnet === n.subnet);
    // One the scan cannot ask must not cost the IPv4 checks; the plan then warns LAN_IPV6_NOT_SCANNED for that network.
    const subnet6 = n.ipv6 && !ipv6NotAskable(facts.interfaces, facts.routes, { parent: n.parent, subnet: n.subnet, subnet6: n.ipv6.subnet }) ? n.ipv6.subnet : undefined;
    if (same) {
      same.networks.push(n.name);
      same.subnet6 ??= subnet6;
    }
    // One scan per parent: a second subnet on the same parent (rare: two IPv4 subnets on one LAN) is not scanned.
    else if (!out.some((t) => t.parent === n.parent)) {
      const missing = !facts.interfaces.some((i) => i.name === n.parent);
      out.push({ parent: n.parent, subnet: n.subnet, gateway: n.gateway, ...(subnet6 ? { subnet6 } : {}), ...(missing ? { missing } : {}), networks: [n.name] });
    }
  }
  return out;
}
