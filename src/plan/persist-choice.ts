/**
 * The backend for one network's `persist` setting. Pure. Detection proper
 * (which manager owns the parent) is src/persist/detect.ts; without the
 * facts it needs (fixtures, callers that did not gather them) nothing about
 * persistence is planned.
 */
import type { PersistBackend } from '../model/desired.js';
import type { HostFacts, InterfaceFact } from '../model/facts.js';
import { choosePersistBackend } from '../persist/detect.js';
import type { PersistChoice } from './plan-persistence.js';

export function persistChoiceFor(network: string, parent: InterfaceFact, requested: PersistBackend, facts: HostFacts): PersistChoice | undefined {
  const managers = facts.persistence?.managers;
  if (!managers) return undefined;
  return choosePersistBackend(parent, managers, requested, { network });
}
