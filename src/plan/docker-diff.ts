/**
 * Compares an existing Docker network with the one we would create, field by
 * field, so that the plan can say exactly what differs.
 */
import type { DockerNetworkFact } from '../model/facts.js';
import type { PlannedNetwork } from '../model/plan.js';
import { formatAddress, formatCidr } from '../net/address.js';

function norm(s: string | undefined): string {
  return s ?? '(none)';
}

export function dockerDifferences(existing: DockerNetworkFact, planned: PlannedNetwork): string[] {
  const diffs: string[] = [];
  if (existing.driver !== 'macvlan') diffs.push(`driver ${existing.driver} ≠ macvlan`);
  if (existing.parent !== planned.parent) diffs.push(`parent ${norm(existing.parent)} ≠ ${planned.parent}`);
  // With IPv6 off, dockerd 20.10 keeps an IPv6 ipam entry but gives no container an IPv6 address (not even one
  // asked for with --ip6): what Compose makes from a file without enable_ipv6: true.
  if (existing.enableIPv6 !== planned.docker.enableIPv6) diffs.push(`IPv6 ${existing.enableIPv6 ? 'on' : 'off'} ≠ ${planned.docker.enableIPv6 ? 'on' : 'off'}`);
  const mode = existing.macvlanMode ?? 'bridge';
  if (mode !== planned.mode) diffs.push(`mode ${mode} ≠ ${planned.mode}`);
  for (const want of planned.docker.ipam) {
    const have = existing.subnets.find((s) => s.subnet && formatCidr(s.subnet) === want.Subnet);
    if (!have) {
      diffs.push(`subnet ${want.Subnet} missing`);
      continue;
    }
    const gw = have.gateway ? formatAddress(have.gateway) : undefined;
    if (gw !== want.Gateway) diffs.push(`gateway ${norm(gw)} ≠ ${want.Gateway}`);
    const range = have.ipRange ? formatCidr(have.ipRange) : undefined;
    // '' is none: an adopted network has no ip-range (src/plan/adopt-network.ts).
    if (range !== (want.IPRange || undefined)) diffs.push(`ip-range ${norm(range)} ≠ ${norm(want.IPRange || undefined)}`);
    const haveAux = Object.fromEntries(Object.entries(have.auxAddresses).map(([k, v]) => [k, formatAddress(v)]));
    const names = new Set([...Object.keys(haveAux), ...Object.keys(want.AuxiliaryAddresses)]);
    for (const n of [...names].sort()) {
      if (haveAux[n] !== want.AuxiliaryAddresses[n]) diffs.push(`aux ${n} ${norm(haveAux[n])} ≠ ${norm(want.AuxiliaryAddresses[n])}`);
    }
  }
  // A Compose network must carry Compose's labels and exactly the driver options Compose compares (src/plan/compose-network.ts).
  for (const [k, v] of Object.entries(planned.labels)) {
    if (k.startsWith('com.docker.compose.') && existing.labels[k] !== v) diffs.push(`label ${k} ${norm(existing.labels[k])} ≠ ${v}`);
  }
  if (planned.labels['com.docker.compose.project'] !== undefined) {
    const keys = new Set([...Object.keys(existing.options), ...Object.keys(planned.docker.options)]);
    for (const k of [...keys].sort()) {
      if (k === 'parent' || k === 'macvlan_mode') continue; // compared above
      if (existing.options[k] !== planned.docker.options[k]) diffs.push(`driver option ${k} ${norm(existing.options[k])} ≠ ${norm(planned.docker.options[k])}`);
    }
    if ((existing.options.macvlan_mode === undefined) !== (planned.docker.options.macvlan_mode === undefined) && mode === planned.mode) {
      diffs.push(`driver option macvlan_mode ${norm(existing.options.macvlan_mode)} ≠ ${norm(planned.docker.options.macvlan_mode)} (Compose 1.29 compares the options as written)`);
    }
  }
  const extra = existing.subnets.filter((s) => s.subnet && !planned.docker.ipam.some((w) => w.Subnet === formatCidr(s.subnet!)));
  for (const s of extra) diffs.push(`extra subnet ${formatCidr(s.subnet!)}`);
  return diffs;
}
