/**
 * What a network should be when apply's record is missing: rebuilt from the
 * Docker network and the labels apply put on it. Pure; status and doctor use it.
 */
import type { DockerNetworkFact } from '../model/facts.js';
import type { MacvlanMode } from '../model/desired.js';
import type { PlannedNetwork } from '../model/plan.js';
import { formatAddress, formatCidr } from '../net/address.js';
import { shimOnRecord } from './shim-identity.js';

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
  const { interface: shim, address, mac, address6 } = shimOnRecord(undefined, d);
  if (shim && address && mac) {
    n.shim = { interface: shim, address, mac, mode, routes: [range4, ...(address6 && range6 ? [range6] : [])] };
    if (address6) n.shim.address6 = address6;
  }
  return n;
}

