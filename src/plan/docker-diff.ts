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
    if (range !== want.IPRange) diffs.push(`ip-range ${norm(range)} ≠ ${want.IPRange}`);
    const haveAux = Object.fromEntries(Object.entries(have.auxAddresses).map(([k, v]) => [k, formatAddress(v)]));
    const names = new Set([...Object.keys(haveAux), ...Object.keys(want.AuxiliaryAddresses)]);
    for (const n of [...names].sort()) {
      if (haveAux[n] !== want.AuxiliaryAddresses[n]) diffs.push(`aux ${n} ${norm(haveAux[n])} ≠ ${norm(want.AuxiliaryAddresses[n])}`);
    }
  }
  const extra = existing.subnets.filter((s) => s.subnet && !planned.docker.ipam.some((w) => w.Subnet === formatCidr(s.subnet!)));
  for (const s of extra) diffs.push(`extra subnet ${formatCidr(s.subnet!)}`);
  return diffs;
}
