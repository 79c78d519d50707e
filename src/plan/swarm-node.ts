/**
 * This node's part of a swarm network (#13), pure. Every node plans from the same file; which node it
 * is comes from its own engine (/info: Name, Swarm.NodeID, ControlAvailable), never the OS hostname.
 *
 * A node's part is an ordinary macvlan network for the rest of the planner, with three differences made
 * here: its ip-range is the node's slice (planSwarmSlices), its shim address the top of that slice (and
 * so the shim routes the slice only), and its parent the node's own when the list gives one. What Docker
 * holds for it is the node's config-only network `<name>-config` (parent, slice, the shim's
 * aux-address): the facts are shown to the planner with that network in the place of `<name>`, so the
 * usual diff (create / noop / replace) applies to it, and the swarm-scoped `<name>` (on a manager) is
 * left out of the host-side checks. The swarm network itself is planned apart (plan/swarm-plan.ts).
 */
import { originLabel } from '../config/origins.js';
import type { DesiredNetwork } from '../model/desired.js';
import { MacvlanError } from '../model/errors.js';
import type { DockerNetworkFact, HostFacts } from '../model/facts.js';
import type { SwarmSelf } from '../model/swarm.js';
import { formatCidr } from '../net/address.js';
import { defaultShimName } from './shim-identity.js';
import { type SwarmSlice, type SwarmSlicePlan, planSwarmSlices } from './swarm-slices.js';

/** The Docker name of a node's config-only network for swarm network `name`. */
export function configOnlyName(name: string): string {
  return `${name}-config`;
}

export interface SwarmNodePart {
  /** the swarm network's (declared) name */
  network: string;
  /** this node, as its engine names itself */
  node: string;
  nodeId: string;
  /** a manager also creates (and destroys) the swarm-scoped network */
  manager: boolean;
  configOnly: string;
  attachable: boolean;
  slice: SwarmSlice;
  slices: SwarmSlicePlan;
}

export interface SwarmNodePlanInput {
  /** the declaration as this node must apply it: its slice, its shim address, its parent */
  desired: DesiredNetwork;
  /** the facts as the planner must see them: the config-only network in the place of the network */
  facts: HostFacts;
  part: SwarmNodePart;
}

function invalid(message: string, details: Record<string, unknown> = {}): MacvlanError {
  return new MacvlanError('CONFIG_INVALID', message, details);
}

/** The slices of a declared swarm network (the same on every node). */
export function slicesOf(d: DesiredNetwork): SwarmSlicePlan {
  const swarm = d.swarm;
  if (!swarm) throw new Error(`internal: network ${d.name} has no swarm block`);
  const where = originLabel(d.origins, 'ipRange');
  if (d.ipv6) {
    throw invalid(`${originLabel(d.origins, 'ipv6.subnet')}: a swarm network is IPv4-only here (each node's IPv6 slice is not planned yet); remove ipv6 from ${d.name}`, { network: d.name });
  }
  const spec = d.ipv4.ipRange;
  if (!spec || spec.kind !== 'explicit') {
    throw invalid(
      `${where}: a swarm network needs the fleet's whole ip_range written out (such as 198.51.100.192/26): every node cuts its slice from it, and a range carved on one node (auto) may differ on the next`,
      { network: d.name },
    );
  }
  if (d.ipv4.hostAddress !== undefined) {
    throw invalid(`${originLabel(d.origins, 'hostAddress')}: a swarm node's shim address is the top of its own slice; remove host_address from ${d.name}`, { network: d.name });
  }
  return planSwarmSlices({
    network: d.name,
    range: spec.cidr,
    ...(d.ipv4.subnet ? { subnet: d.ipv4.subnet } : {}),
    ...(d.ipv4.gateway ? { gateway: d.ipv4.gateway } : {}),
    nodes: swarm.nodes,
    ...(swarm.slicePrefix !== undefined ? { slicePrefix: swarm.slicePrefix } : {}),
    // Where the file wrote them, when it did (a declaration built in code has no positions: the key path is said).
    origins: { ...(d.origins['swarm.nodes'] ? { nodes: d.origins['swarm.nodes'] } : {}), ...(d.origins['swarm.slice'] ? { slice: d.origins['swarm.slice'] } : {}) },
  });
}

/** Which node this engine is, or why that cannot be known (Docker down, not in a swarm). */
function selfOf(d: DesiredNetwork, facts: HostFacts): SwarmSelf {
  if (!facts.docker.available) {
    throw new MacvlanError('DOCKER_UNAVAILABLE', `network ${d.name} is a swarm network, and which node this is comes from the Docker engine, which is not reachable: ${facts.docker.reason}`, {
      network: d.name,
    });
  }
  const self = facts.docker.swarm;
  if (!self) {
    // the caller gathered the facts without asking the engine (/info): a bug, said plainly rather than guessed around
    throw new MacvlanError('DOCKER_ERROR', `network ${d.name} is a swarm network, but which node this engine is was not asked (/info); this is a macvlanctl bug: please report it`, { network: d.name });
  }
  if (self.state !== 'active' || !self.nodeId) {
    throw invalid(
      `${originLabel(d.origins, 'swarm')}: network ${d.name} is a swarm network, but this engine (${self.name || 'unnamed'}) is not an active swarm node (state ${self.state}): join the swarm first (docker swarm join), or apply it without swarm:`,
      { network: d.name, node: self.name, state: self.state },
    );
  }
  return self;
}

/** The docker networks as this node's plan must see them: `<name>-config` as `<name>`, the swarm-scoped `<name>` out of the way. */
export function nodeDockerView(networks: DockerNetworkFact[], name: string): DockerNetworkFact[] {
  const cfg = configOnlyName(name);
  const out: DockerNetworkFact[] = [];
  for (const n of networks) {
    if (n.name === name) continue; // the swarm network (or a stranger by that name: the swarm plan refuses it)
    if (n.name === cfg) {
      // A config-only network has driver "null" and no scope of its own; the parent sits in its options.
      out.push({ ...n, name, driver: n.configOnly ? 'macvlan' : n.driver, configOnly: false, ...(n.options.parent ? { parent: n.options.parent } : {}) });
      continue;
    }
    out.push(n);
  }
  return out;
}

export function swarmNodePlanInput(d: DesiredNetwork, facts: HostFacts): SwarmNodePlanInput {
  const swarm = d.swarm;
  if (!swarm) throw new Error(`internal: network ${d.name} has no swarm block`);
  const slices = slicesOf(d);
  const self = selfOf(d, facts);
  const slice = slices.slices.find((s) => s.node === self.name);
  if (!slice) {
    const listed = slices.slices.map((s) => s.node);
    throw invalid(
      `${originLabel(d.origins, 'swarm.nodes')}: this node is ${self.name} (as its Docker engine names itself), which is not listed (${listed.join(', ')}): add it to the list (at the end, so no other node's slice moves), or run apply on a listed node`,
      { network: d.name, node: self.name, listed },
    );
  }
  const desired: DesiredNetwork = {
    ...d,
    ...(slice.parent ? { parent: slice.parent } : {}),
    ipv4: { ...d.ipv4, ipRange: { kind: 'explicit', cidr: slice.slice }, hostAddress: slice.shim },
    shimInterface: d.shimInterface ?? defaultShimName(d.name),
    origins: {
      ...d.origins,
      ipRange: `${originLabel(d.origins, 'ipRange')} (node ${self.name}'s slice ${formatCidr(slice.slice)})`,
      hostAddress: `the top of node ${self.name}'s slice`,
      ...(slice.parent ? { parent: `${originLabel(d.origins, 'swarm.nodes')} (node ${self.name}'s parent)` } : {}),
    },
  };
  const viewFacts: HostFacts = facts.docker.available ? { ...facts, docker: { ...facts.docker, networks: nodeDockerView(facts.docker.networks, d.name) } } : facts;
  return {
    desired,
    facts: viewFacts,
    part: { network: d.name, node: self.name, nodeId: self.nodeId, manager: self.manager, configOnly: configOnlyName(d.name), attachable: swarm.attachable, slice, slices },
  };
}
