/**
 * Human output of a swarm network's fleet view (#13), shown by `status NAME` and `doctor` on a manager:
 * one line per swarm node (its slice and shim, or "no slice"), its running tasks with their addresses,
 * then what is wrong. Pure: FleetView in, text out.
 */
import type { FleetFinding, FleetView } from '../plan/swarm-fleet.js';
import { colors as c } from './colors.js';

function findingLine(f: FleetFinding): string {
  const mark = f.severity === 'fail' ? c.red('✗') : c.yellow('!');
  return `    ${mark} ${f.message}${f.fix ? ` — fix: ${f.fix}` : ''}`;
}

export function presentFleet(v: FleetView): string {
  const out: string[] = [];
  out.push(`  swarm fleet of ${c.bold(v.network)}: ip_range ${v.range} in /${v.slicePrefix} slices${v.networkExists ? '' : c.yellow(' (the swarm network does not exist yet: apply -f on a manager creates it)')}`);
  const width = Math.max(4, ...v.nodes.map((n) => n.node.length));
  for (const n of v.nodes) {
    const where = n.slice ? `slice ${n.slice} shim ${n.shim}` : c.red('no slice');
    const state = n.state === 'ready' && n.availability === 'active' ? '' : ` (${n.state}, ${n.availability})`;
    out.push(`    ${n.node.padEnd(width)}  ${n.role.padEnd(7)}  ${where}${state}  ${n.tasks.length} task${n.tasks.length === 1 ? '' : 's'}`);
    for (const t of n.tasks) {
      const flag = t.inSlice === false ? c.red('  outside the slice') : '';
      out.push(`    ${' '.repeat(width)}    ${t.service}.${t.slot ?? '?'}  ${t.address ?? '(no address seen)'}${flag}`);
    }
  }
  for (const u of v.unplacedSlices) out.push(`    ${u.node.padEnd(width)}  ${'-'.padEnd(7)}  slice ${u.slice}  (not in the swarm)`);
  if (v.findings.length === 0) out.push(`    ${c.green('✓')} every task in its node's slice, no duplicate address, every node has a slice`);
  for (const f of v.findings) out.push(findingLine(f));
  return `${out.join('\n')}\n`;
}
