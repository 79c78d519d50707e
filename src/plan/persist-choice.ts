/**
 * The backend for one network's `persist` setting, from the persistence
 * facts. Pure. Detection proper (which manager owns the parent) lives in
 * src/persist/detect.ts; this adapts its answer for the planner.
 */
import type { PersistBackend } from '../model/desired.js';
import type { HostFacts } from '../model/facts.js';
import type { PersistChoice } from './plan-persistence.js';

export function persistChoiceFor(parent: string, requested: PersistBackend, facts: HostFacts): PersistChoice | undefined {
  if (requested === 'none') return { backend: 'none', reason: '--persist none: the shim is not persisted and is gone after a reboot', warnings: [] };
  // Facts without persistence (fixtures, or a caller that did not gather it): nothing to plan.
  if (!facts.persistence) return undefined;
  if (requested === 'auto') return { backend: 'systemd', reason: `provisional: ${parent}`, warnings: [] };
  return { backend: requested, reason: `--persist ${requested}`, warnings: [] };
}
