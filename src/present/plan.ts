/**
 * Human presentation of a plan, Terraform-style: `+` create, `~` update,
 * `-/+` replace (removed and made again), `-` delete, each change with its
 * reason underneath.
 */
import type { LanScanSource } from '../model/lan.js';
import type { Change, ChangeAction, Plan } from '../model/plan.js';
import { colors as c } from './colors.js';

const SYMBOL: Record<ChangeAction, string> = { create: '+', update: '~', replace: '-/+', delete: '-', noop: '=' };

function paint(action: ChangeAction, text: string): string {
  if (action === 'create') return c.green(text);
  if (action === 'update' || action === 'replace') return c.yellow(text);
  if (action === 'delete') return c.red(text);
  return c.dim(text);
}

export function countChanges(changes: Change[]): Record<ChangeAction, number> {
  const n: Record<ChangeAction, number> = { create: 0, update: 0, replace: 0, delete: 0, noop: 0 };
  for (const ch of changes) n[ch.action]++;
  return n;
}

/** How many changes would change something (all but the noops). */
export function pendingChanges(count: Record<ChangeAction, number>): number {
  return count.create + count.update + count.replace + count.delete;
}

/** How old a cached scan is, for display: "42 s", or whole minutes from 90 s on. */
export function scanAge(seconds: number): string {
  return seconds < 90 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

/** Where the LAN facts came from and how old they are: "scanned just now" or "from the scan cached 42 s ago (…)". */
export function describeLanSource(s: LanScanSource): string {
  const parts = [s.origin === 'scan' ? `scanned just now${s.rescanReason ? ` (not the cached scan: ${s.rescanReason})` : ''}` : `from the scan cached ${scanAge(s.ageSeconds)} ago (taken ${s.scannedAt})`];
  if (s.reprobed?.gone.length) parts.push(`re-probed just now: ${s.reprobed.gone.join(', ')} no longer answer${s.reprobed.gone.length === 1 ? 's' : ''} (dropped)`);
  if (s.reprobed?.answered.length) parts.push(`re-probed just now: ${s.reprobed.answered.join(', ')} still answer${s.reprobed.answered.length === 1 ? 's' : ''}`);
  return parts.join('; ');
}

export function presentPlan(plan: Plan & { commands?: string[] }): string {
  const out: string[] = [];
  for (const n of plan.networks) {
    out.push(c.bold(`Network ${n.name}`) + ` — macvlan ${n.mode} on ${n.parent}`);
    out.push(`  subnet    ${n.subnet}   gateway ${n.gateway}`);
    if (n.shim?.containerRoutes) out.push(`  ip-range  none${c.dim('   (adopted as it is: the host reaches each container by a /32 route)')}`);
    else out.push(`  ip-range  ${n.ipRange}${n.ipRangeSource === 'auto' ? c.dim('   (carved automatically)') : ''}`);
    const aux = Object.entries(n.auxAddresses).map(([k, v]) => `${k}=${v}`);
    if (aux.length) out.push(`  aux       ${aux.join(' ')}`);
    if (n.ipv6) out.push(`  ipv6      ${n.ipv6.subnet}   gateway ${n.ipv6.gateway}   ip-range ${n.ipv6.ipRange}`);
    if (n.shim) {
      out.push(`  shim      ${n.shim.interface} ${n.shim.address}/32${n.shim.address6 ? ` ${n.shim.address6}/128` : ''}   MAC ${n.shim.mac}`);
      out.push(`  routes    ${n.shim.routes.join(', ')} via ${n.shim.interface}`);
    } else {
      out.push(`  shim      none (--no-host-access: the host cannot reach these containers)`);
    }
    out.push(`  persist   ${n.persistence ? `${n.persistence.backend} — ${n.persistence.reason}` : n.persist}`);
    const lan = plan.lan?.find((s) => s.parent === n.parent);
    if (lan) out.push(`  lan       ${describeLanSource(lan)}`);
    out.push('');
    for (const ch of plan.changes.filter((x) => x.network === n.name)) {
      if (ch.action === 'noop') {
        out.push(paint('noop', `  ${SYMBOL.noop} ${ch.summary}`));
        continue;
      }
      out.push(paint(ch.action, `  ${SYMBOL[ch.action]} ${ch.summary}`));
      out.push(c.dim(`      ${ch.reason}`));
    }
    out.push('');
  }
  // Changes for a network the plan does not place: what `destroy` removes (plan --destroy).
  const placed = new Set(plan.networks.map((n) => n.name));
  for (const name of [...new Set(plan.changes.map((ch) => ch.network))].filter((x) => !placed.has(x))) {
    out.push(c.bold(`Destroy ${name}`));
    for (const ch of plan.changes.filter((x) => x.network === name)) {
      out.push(paint(ch.action, `  ${SYMBOL[ch.action]} ${ch.summary}`));
      out.push(c.dim(`      ${ch.reason}`));
    }
    out.push('');
  }
  const count = countChanges(plan.changes);
  if (pendingChanges(count) === 0) {
    out.push('No changes: the host and Docker already match the declaration.');
  } else {
    const replaced = count.replace ? `${count.replace} to replace, ` : '';
    out.push(`Plan: ${count.create} to create, ${count.update} to change, ${replaced}${count.delete} to delete (${count.noop} unchanged).`);
  }
  for (const w of plan.warnings) {
    out.push(c.yellow(`warning: ${w.message}`) + (w.fix ? `\n  fix: ${w.fix}` : ''));
  }
  for (const u of plan.unchecked) out.push(c.dim(`note: ${u}`));
  if (plan.commands) {
    out.push('', c.bold('Equivalent commands:'));
    for (const line of plan.commands) out.push(`  ${line}`);
  }
  return `${out.join('\n')}\n`;
}
