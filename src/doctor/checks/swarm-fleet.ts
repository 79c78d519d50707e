/**
 * The swarm fleet's findings (plan/swarm-fleet.ts) as doctor checks (#13), one per kind, so a script
 * can match `swarm-task-outside-slice`, `swarm-duplicate-address`, … A kind with no finding passes.
 */
import type { FleetFindingKind, FleetView } from '../../plan/swarm-fleet.js';
import type { CheckResult } from '../types.js';

const TITLES: Record<FleetFindingKind, string> = {
  'task-outside-slice': 'swarm tasks in their node slices',
  'duplicate-address': 'swarm task addresses unique',
  'task-address-unseen': 'every running swarm task has a known address',
  'node-without-slice': 'every swarm node has a slice',
  'listed-not-in-swarm': 'every listed node is in the swarm',
  'missing-config-network': 'no task failed for a missing config-only network',
};

const PASSED: Record<FleetFindingKind, string> = {
  'task-outside-slice': 'every running task holds an address of its own node slice',
  'duplicate-address': 'no two running tasks share an address',
  'task-address-unseen': 'the network lists an address for every running task',
  'node-without-slice': 'the file lists every node of the swarm',
  'listed-not-in-swarm': 'every listed node is a swarm node',
  'missing-config-network': 'no such failure in the tasks the swarm keeps',
};

export function fleetChecks(view: FleetView): CheckResult[] {
  return (Object.keys(TITLES) as FleetFindingKind[]).map((kind) => {
    const found = view.findings.filter((f) => f.kind === kind);
    const id = `swarm-${kind}`;
    if (found.length === 0) return { id, title: TITLES[kind], verdict: 'pass', detail: PASSED[kind] };
    const fixes = [...new Set(found.flatMap((f) => (f.fix ? [f.fix] : [])))];
    const result: CheckResult = {
      id,
      title: TITLES[kind],
      verdict: found.some((f) => f.severity === 'fail') ? 'fail' : 'warn',
      detail: found.map((f) => f.message).join('; '),
      data: { findings: found },
    };
    if (fixes.length) result.fix = fixes.join('; ');
    return result;
  });
}
