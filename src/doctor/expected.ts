/**
 * What a network should be, for the checks: the declaration's plan (with -f),
 * else apply's record, else what the Docker labels say (a record lost, or a
 * network applied by a version that kept none). Pure.
 */
import type { DockerNetworkFact } from '../model/facts.js';
import type { MacvlanMode } from '../model/desired.js';
import type { PlannedNetwork } from '../model/plan.js';
import { formatAddress, formatCidr } from '../net/address.js';
import { LABEL_HOST_ADDRESS, LABEL_HOST_ADDRESS6, LABEL_SHIM, LABEL_SHIM_MAC } from '../model/labels.js';
import type { DoctorNetworkFacts } from './types.js';

export type ExpectationSource = 'declaration' | 'record' | 'Docker labels';

export interface Expected {
  network: PlannedNetwork;
  source: ExpectationSource;
}

/**
 * A planned network rebuilt from the Docker network and its labels. Only
 * what the labels and Docker hold is filled in (no persistence: that is in
 * the record only).
 */
export function networkFromLabels(d: DockerNetworkFact): PlannedNetwork | undefined {
  if (!d.parent) return undefined;
  const s4 = d.subnets.find((s) => s.subnet?.family === 4);
  const s6 = d.subnets.find((s) => s.subnet?.family === 6);
  if (!s4?.subnet) return undefined;
  const mode = (d.macvlanMode ?? 'bridge') as MacvlanMode;
  const aux = (s: typeof s4) => Object.fromEntries(Object.entries(s.auxAddresses).map(([k, v]) => [k, formatAddress(v)]));
  const range4 = s4.ipRange ? formatCidr(s4.ipRange) : formatCidr(s4.subnet);
  const range6 = s6?.subnet ? (s6.ipRange ? formatCidr(s6.ipRange) : formatCidr(s6.subnet)) : undefined;
  const n: PlannedNetwork = {
    name: d.name,
    parent: d.parent,
    mode,
    subnet: formatCidr(s4.subnet),
    gateway: s4.gateway ? formatAddress(s4.gateway) : '',
    ipRange: range4,
    ipRangeSource: 'explicit',
    auxAddresses: aux(s4),
    persist: 'none',
    labels: d.labels,
    docker: { driver: 'macvlan', options: d.options, ipam: [], enableIPv6: d.enableIPv6 },
  };
  if (s6?.subnet && range6) {
    n.ipv6 = { subnet: formatCidr(s6.subnet), gateway: s6.gateway ? formatAddress(s6.gateway) : '', ipRange: range6, ipRangeSource: 'explicit', auxAddresses: aux(s6) };
  }
  const shim = d.labels[LABEL_SHIM];
  const address = d.labels[LABEL_HOST_ADDRESS];
  const mac = d.labels[LABEL_SHIM_MAC];
  if (shim && address && mac) {
    const address6 = d.labels[LABEL_HOST_ADDRESS6];
    n.shim = { interface: shim, address, mac: mac.toLowerCase(), mode, routes: [range4, ...(address6 && range6 ? [range6] : [])] };
    if (address6) n.shim.address6 = address6;
  }
  return n;
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
