/**
 * A swarm network's plan on this node (#13), and its destroy, as ordinary plan changes (no side path):
 *
 *   apply:   docker-network <name>-config  create/noop/replace   the node's part (config-only: parent,
 *                                                               slice, the shim's aux-address)
 *            docker-network <name>          create/noop          on a manager only: the swarm network,
 *                                                               --config-from <name>-config
 *            shim, persistence, record      as for any network (the shim's address is the slice's top,
 *                                                               its route the slice)
 *   destroy: docker-network <name> delete (a manager; refused while services use it), then the
 *            node's part: shim, config-only network, files, record.
 *
 * Both Docker changes carry the network's declared name, so planOperations runs them with the rest of
 * the network, in the order of the changes (the config-only network first on apply, last on destroy).
 */
import type { DockerNetworkFact, HostFacts } from '../model/facts.js';
import { isManagedNetwork } from '../model/labels.js';
import type { DesiredNetwork } from '../model/desired.js';
import type { Change, DockerCreateBody, DockerNetworkState, Plan, PlanError, Warning } from '../model/plan.js';
import { formatAddress, formatCidr } from '../net/address.js';
import { existingState } from './docker-body.js';
import { type DestroyOptions, type DestroyRecord, planDestroy } from './plan-destroy.js';
import { type NetworkPlan, type PlanContext, planNetwork } from './plan-network.js';
import { decideSwarmNetwork, isOurSwarmNetwork } from './swarm-network.js';
import { type SwarmNodePart, configOnlyName, nodeDockerView, swarmNodePlanInput } from './swarm-node.js';
import { plannedSwarm } from './swarm-record.js';

type DockerChange = Extract<Change, { kind: 'docker-network' }>;

function asConfigOnly(body: DockerCreateBody, configOnly: string): DockerCreateBody {
  return { ...body, Name: configOnly, ConfigOnly: true };
}

function stateAsConfigOnly(state: DockerNetworkState, configOnly: string): DockerNetworkState {
  return { ...state, body: asConfigOnly(state.body, configOnly) };
}

/** The planner's change for "the network" is, on a swarm node, its config-only network. */
function configOnlyChange(c: DockerChange, part: SwarmNodePart): DockerChange {
  const what = `config-only network ${part.configOnly} (node ${part.node}'s slice ${formatCidr(part.slice.slice)}, shim ${formatAddress(part.slice.shim)})`;
  const out: DockerChange = { ...c, summary: c.action === 'noop' ? `${what} as declared` : what };
  if (c.action === 'create') out.reason = `no config-only network ${part.configOnly} exists`;
  if (c.after) out.after = asConfigOnly(c.after, part.configOnly);
  if (c.before) out.before = stateAsConfigOnly(c.before, part.configOnly);
  if (c.action === 'replace') out.reason = `${c.reason}; the swarm network ${part.network} holds on to it, so a replace works only once no service uses ${part.network} on this node`;
  return out;
}

function swarmNetworkChanges(part: SwarmNodePart, facts: HostFacts, np: NetworkPlan): DockerChange[] {
  const decision = decideSwarmNetwork(part, facts.docker.available ? facts.docker.networks : []);
  switch (decision.action) {
    case 'create':
      return [
        {
          kind: 'docker-network',
          action: 'create',
          network: part.network,
          // The engine takes no labels, options or IPAM on a --config-from network: empty ones only.
          after: { Name: part.network, Driver: 'macvlan', Options: {}, IPAM: { Driver: 'default', Config: [] }, EnableIPv6: false, Labels: {}, CheckDuplicate: true, Attachable: part.attachable, Scope: 'swarm', ConfigFrom: { Network: part.configOnly } },
          summary: `swarm network ${part.network} (macvlan, --config-from ${part.configOnly}${part.attachable ? ', attachable' : ''})`,
          reason: `${part.node} is a manager: the swarm-scoped network is made here, once for the whole swarm`,
        },
      ];
    case 'noop':
      if (decision.warning) np.warnings.push({ code: 'SWARM_NETWORK_ATTACHABLE', message: decision.warning });
      return [{ kind: 'docker-network', action: 'noop', network: part.network, summary: `swarm network ${part.network} from ${part.configOnly}`, reason: 'exists' }];
    case 'from-manager':
      np.notes.push(decision.note);
      return [];
  }
}

/**
 * The planner's refusal of "the network with other settings" is, on a swarm node, about its config-only
 * network: most likely the slices moved (the list grew past what the slice size holds, or a node was
 * deleted from it instead of written as ~). Said so, with the way back and the way forward.
 */
function swarmRefusal(e: PlanError, part: SwarmNodePart): PlanError {
  const differences = e.details?.differences;
  if (e.code !== 'DOCKER_CONFLICT' || e.details?.network !== part.network || !Array.isArray(differences)) return e;
  return {
    ...e,
    message:
      `${part.configOnly}, node ${part.node}'s part of the swarm network ${part.network}, holds other settings than the file gives it (${differences.join('; ')}). ` +
      `If the slices moved (the list grew past what the slice size holds, or a node was deleted from it instead of written as ~), put the list back or fix slice: /N; ` +
      `otherwise pass --replace, on every node whose slice moved, once no task of ${part.network} runs there`,
    details: { ...e.details, configOnly: part.configOnly, node: part.node },
  };
}

/** This node's part of a swarm network, as a network plan. */
export function planSwarmNode(d: DesiredNetwork, facts: HostFacts, ctx: PlanContext): NetworkPlan {
  const input = swarmNodePlanInput(d, facts);
  const np = planNetwork(input.desired, input.facts, ctx);
  const part = input.part;
  np.network.swarm = plannedSwarm(part);
  const changes: Change[] = [];
  for (const c of np.changes) {
    changes.push(c.kind === 'docker-network' ? configOnlyChange(c, part) : c);
    // right after the config-only network: the swarm network is made from it
    if (c.kind === 'docker-network') changes.push(...swarmNetworkChanges(part, facts, np));
  }
  np.changes = changes;
  np.errors = np.errors.map((e) => swarmRefusal(e, part));
  np.notes.push(`swarm node ${part.node} (${part.manager ? 'manager' : 'worker'}): slice ${formatCidr(part.slice.slice)} of ${formatCidr(part.slices.range)}, shim ${formatAddress(part.slice.shim)}`);
  const growth = sliceGrowthWarning(part, d.swarm?.slicePrefix === undefined);
  if (growth) np.warnings.push(growth);
  return np;
}

/**
 * Sized automatically, the slices halve when the list outgrows them, and every node's slice moves
 * (apply then refuses on each node: swarmRefusal). Said before it happens, while the list is full:
 * the fix is to write the size down.
 */
export function sliceGrowthWarning(part: SwarmNodePart, automatic: boolean): Warning | undefined {
  const { slices, capacity, slicePrefix, range } = part.slices;
  const slots = slices.length + part.slices.emptySlots.length;
  if (!automatic || slots < capacity) return undefined;
  return {
    code: 'SWARM_SLICES_FULL',
    message: `the ${capacity} slices of /${slicePrefix} in ${formatCidr(range)} are all taken, and their size is automatic: a node appended to swarm.nodes would halve every slice and move the existing ones`,
    fix: `write slice: /${slicePrefix + 1} now (room for ${capacity * 2} nodes; each slice's addresses then move once, before any service runs) or widen ip_range, and keep slice: fixed from then on`,
  };
}

/** Is network `name` a swarm network's part on this node (by our record, or our config-only network)? */
export function isSwarmPart(name: string, facts: HostFacts, record: DestroyRecord): boolean {
  if (record.network?.swarm) return true;
  const cfg = facts.docker.available ? facts.docker.networks.find((n) => n.name === configOnlyName(name)) : undefined;
  return cfg !== undefined && cfg.configOnly && isManagedNetwork(cfg.labels);
}

/** Services that use the swarm network (by id or name), from a manager's /services. */
export interface SwarmServiceUse {
  id: string;
  name: string;
}

/**
 * `destroy NAME` on a swarm node: the node's part (as planDestroy plans any network, with the config-only
 * network in the place of the network), and on a manager first the swarm network, refused while services
 * use it. `services` is what the manager's /services says (undefined on a worker).
 */
export function planSwarmDestroy(name: string, facts: HostFacts, record: DestroyRecord, options: DestroyOptions, services: SwarmServiceUse[] | undefined): Plan {
  const cfg = configOnlyName(name);
  const view: HostFacts = facts.docker.available ? { ...facts, docker: { ...facts.docker, networks: nodeDockerView(facts.docker.networks, name) } } : facts;
  const plan = planDestroy(name, view, record, options);
  plan.changes = plan.changes.map((c) => {
    if (c.kind !== 'docker-network' || !c.before) return c;
    return { ...c, before: stateAsConfigOnly(c.before, cfg), summary: `config-only network ${cfg}` };
  });
  const swarmNet: DockerNetworkFact | undefined = facts.docker.available ? facts.docker.networks.find((n) => n.name === name && isOurSwarmNetwork(n, cfg)) : undefined;
  // Tasks of the swarm network running here hold the config-only network: the engine would refuse its
  // removal after the shim is gone. Refused before anything changes.
  const here = swarmNet?.containers ?? [];
  if (here.length > 0) {
    (plan.errors ??= []).push({
      code: 'DOCKER_CONFLICT',
      message: `${here.length} task${here.length === 1 ? '' : 's'} of the swarm network ${name} run${here.length === 1 ? 's' : ''} on this node (${here.map((c) => c.name).join(', ')}), and ${cfg} cannot go before ${here.length === 1 ? 'it does' : 'they do'}: drain this node (docker node update --availability drain NODE) or remove the services first`,
      details: { network: name, containers: here.map((c) => c.name) },
    });
  }
  if (!swarmNet || services === undefined) {
    // A worker (it sees the swarm network only while tasks of it run here, and only a manager can remove
    // it), or a manager where it is gone already.
    if (services === undefined) plan.unchecked.push(`the swarm network ${name} is a manager's to remove: run destroy ${name} on a manager too`);
    return plan;
  }
  if (services.length > 0) {
    const names = services.map((s) => s.name).join(', ');
    (plan.errors ??= []).push({
      code: 'DOCKER_CONFLICT',
      message: `the swarm network ${name} is used by service${services.length === 1 ? '' : 's'} ${names}: remove ${services.length === 1 ? 'it' : 'them'} first (docker service rm ${names}), or take ${name} out of ${services.length === 1 ? 'it' : 'them'} (docker service update --network-rm ${name} SERVICE); --force does not remove services`,
      details: { network: name, services: services.map((s) => s.name) },
    });
  }
  // made again as it was made, should a later step fail (the engine takes no options, IPAM or labels on it)
  const body: DockerCreateBody = {
    ...existingState(swarmNet).body,
    Options: {},
    IPAM: { Driver: 'default', Config: [] },
    Labels: {},
    Scope: 'swarm',
    ConfigFrom: { Network: cfg },
    ...(record.network?.swarm?.attachable ? { Attachable: true } : {}),
  };
  const remove: DockerChange = {
    kind: 'docker-network',
    action: 'delete',
    network: name,
    before: { id: swarmNet.id, body },
    summary: `swarm network ${name}`,
    reason: `made by macvlanctl from ${cfg} (this node is a manager)`,
  };
  // first: the config-only network cannot go while the swarm network uses it
  const firstDocker = plan.changes.findIndex((c) => c.kind === 'docker-network');
  if (firstDocker < 0) plan.changes.push(remove);
  else plan.changes.splice(firstDocker, 0, remove);
  return plan;
}
