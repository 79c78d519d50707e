/**
 * What `up` and `down` do to the host side, as operations (src/cli/commands/up-down.ts runs them):
 * `up` the host-side diff against apply's record (the one apply and doctor use), `down` the one
 * delete-shim operation. Pure.
 */
import { MacvlanError } from '../model/errors.js';
import type { DockerFacts, HostFacts } from '../model/facts.js';
import type { PlannedNetwork } from '../model/plan.js';
import { withAttachedContainers } from '../plan/adopt-network.js';
import { hostSideChanges } from '../plan/plan-network.js';
import { findOwnShim, shimOnRecord } from '../plan/shim-identity.js';
import { deleteShimOperation, shimOperations, type Operation } from './operations.js';

/** Operations for `up` or `down` against the interfaces as they are. Pure. */
export function upDownOperations(verb: 'up' | 'down', name: string, facts: Pick<HostFacts, 'interfaces' | 'routes'>, recorded?: PlannedNetwork, docker?: DockerFacts): Operation[] {
  if (verb === 'down') {
    // The record alone: up and down never ask Docker (it may not be up at boot), so there are no labels to fall back on.
    const shim = findOwnShim(name, facts.interfaces, shimOnRecord(recorded?.shim, undefined));
    return shim ? [deleteShimOperation(shim.name)] : [];
  }
  if (!recorded) throw new MacvlanError('NOT_FOUND', `no record of network ${name}: run macvlanctl apply first`);
  // An adopted network routes the containers attached now (src/plan/adopt-network.ts).
  const n = withAttachedContainers(recorded, docker, facts);
  const changes = hostSideChanges(n, facts as HostFacts).filter((c) => c.action !== 'noop');
  return shimOperations(changes, n);
}
