/**
 * What a network should be, for the checks: the declaration's plan (with -f),
 * else apply's record, else what the Docker labels say (a record lost, or a
 * network applied by a version that kept none). Pure.
 */
import type { PlannedNetwork } from '../model/plan.js';
import { networkFromLabels } from '../plan/network-from-labels.js';
import type { DoctorNetworkFacts } from './types.js';

export type ExpectationSource = 'declaration' | 'record' | 'Docker labels';

export interface Expected {
  network: PlannedNetwork;
  source: ExpectationSource;
}

/** The network as it should be, and where that came from; undefined when nothing says. */
export function expectedNetwork(f: DoctorNetworkFacts): Expected | undefined {
  if (f.declared && 'network' in f.declared) return { network: f.declared.network, source: 'declaration' };
  if (f.record) return { network: f.record.network, source: 'record' };
  const fromLabels = f.docker ? networkFromLabels(f.docker) : undefined;
  return fromLabels ? { network: fromLabels, source: 'Docker labels' } : undefined;
}

/** The parent interface's name, from wherever it is known. */
export function parentName(f: DoctorNetworkFacts): string | undefined {
  return expectedNetwork(f)?.network.parent ?? f.status.parent;
}

/** The IPv4 ip-range Docker hands addresses out of: Docker's own setting first (that is what it does), else the expectation. */
export function ipRange(f: DoctorNetworkFacts): string | undefined {
  // An adopted network has none ('').
  return f.status.ipRange ?? (expectedNetwork(f)?.network.ipRange || undefined);
}

export function subnet(f: DoctorNetworkFacts): string | undefined {
  return f.status.subnet ?? expectedNetwork(f)?.network.subnet;
}

/** The network's IPv6 subnet and ip-range, when it is dual-stack (status shows IPv4 only: from the declaration or the record). */
export function subnet6(f: DoctorNetworkFacts): string | undefined {
  return expectedNetwork(f)?.network.ipv6?.subnet;
}

export function ipRange6(f: DoctorNetworkFacts): string | undefined {
  return expectedNetwork(f)?.network.ipv6?.ipRange;
}

export function gateway(f: DoctorNetworkFacts): string | undefined {
  return f.status.gateway ?? (expectedNetwork(f)?.network.gateway || undefined);
}

/** The shim as it should be; undefined when the network has no host access. */
export function expectedShim(f: DoctorNetworkFacts) {
  return expectedNetwork(f)?.network.shim;
}
