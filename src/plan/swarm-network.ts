/**
 * The swarm-scoped network of a swarm declaration (#13), pure: what a node does about `<name>` itself.
 * Only a manager can create it (a worker's engine answers 403 "Cannot create a multi-host network from
 * a worker node"), and only after its own config-only network exists, which the manager's plan creates
 * first. The engine takes no labels, options or IPAM on a `--config-from` network ("user specified
 * configurations are not supported if the network depends on a configuration network"), so it is known
 * as ours by its ConfigFrom: our labelled config-only network.
 */
import { MacvlanError } from '../model/errors.js';
import type { DockerNetworkFact } from '../model/facts.js';
import type { SwarmNodePart } from './swarm-node.js';

/** The Engine API body that makes the swarm network: nothing but its name, driver, scope and source. */
export interface SwarmNetworkBody {
  Name: string;
  Driver: 'macvlan';
  Scope: 'swarm';
  ConfigFrom: { Network: string };
  Attachable: boolean;
  CheckDuplicate: boolean;
}

export type SwarmNetworkDecision =
  /** a manager creates it */
  | { action: 'create'; body: SwarmNetworkBody }
  /** it is there, from our config-only network */
  | { action: 'noop'; id: string; warning?: string }
  /** a worker without it: a manager's apply makes it (before or after this one) */
  | { action: 'from-manager'; note: string };

export function swarmNetworkBody(part: SwarmNodePart): SwarmNetworkBody {
  return { Name: part.network, Driver: 'macvlan', Scope: 'swarm', ConfigFrom: { Network: part.configOnly }, Attachable: part.attachable, CheckDuplicate: true };
}

/** Is this Docker network our swarm network (swarm-scoped, from our config-only network)? */
export function isOurSwarmNetwork(n: DockerNetworkFact, configOnly: string): boolean {
  return n.scope === 'swarm' && n.configFrom === configOnly;
}

export function decideSwarmNetwork(part: SwarmNodePart, networks: readonly DockerNetworkFact[]): SwarmNetworkDecision {
  const existing = networks.find((n) => n.name === part.network);
  if (existing && !isOurSwarmNetwork(existing, part.configOnly)) {
    const what = existing.scope === 'swarm' ? `a swarm network ${existing.configFrom ? `from ${existing.configFrom}` : 'with its own settings'}` : `a ${existing.scope} ${existing.driver} network`;
    throw new MacvlanError(
      'DOCKER_CONFLICT',
      `network ${part.network}: a Docker network named ${part.network} already exists (${what}), not the swarm network from ${part.configOnly} that macvlanctl makes; remove it (docker network rm ${part.network}) or choose another name`,
      { network: part.network, scope: existing.scope, driver: existing.driver, configFrom: existing.configFrom ?? null },
    );
  }
  if (existing) {
    // Docker cannot make a network (not) attachable in place: said, rather than passed over as "exists"
    const attachable = existing.attachable === true;
    if (attachable === part.attachable) return { action: 'noop', id: existing.id };
    return {
      action: 'noop',
      id: existing.id,
      warning: part.attachable
        ? `the swarm network ${part.network} exists but is not attachable, and the file asks attachable: true: standalone containers (docker run --network ${part.network}) cannot join it. Docker cannot change that in place: remove the services that use ${part.network}, run destroy ${part.network} on this manager, then apply -f here again`
        : `the swarm network ${part.network} exists and is attachable, and the file does not ask for it: standalone containers can still join it. To drop that, remove the services that use ${part.network}, run destroy ${part.network} on this manager, then apply -f here again`,
    };
  }
  if (part.manager) return { action: 'create', body: swarmNetworkBody(part) };
  return {
    action: 'from-manager',
    note: `the swarm network ${part.network} comes from a manager: run apply -f there too (before or after this node); ${part.node} is a worker and holds its own part, the config-only network ${part.configOnly}`,
  };
}
