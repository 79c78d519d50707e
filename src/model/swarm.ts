/**
 * Facts about a Docker Swarm, as a manager sees them (#13): its nodes, and the tasks of the services on
 * one swarm-scoped network with the address each task got. Gathered in src/gather/swarm-facts.ts,
 * judged (pure) in src/plan/swarm-fleet.ts.
 */
import type { IpAddress } from './address.js';

/** One entry of `swarm.nodes`. */
export interface SwarmNodeDeclaration {
  /** the node's name as its engine reports it (`docker info` Name = the swarm node's hostname) */
  name: string;
  /** this node's parent NIC, when it differs from the network's */
  parent?: string;
}

/** A network's `swarm:` block: one macvlan network across a Docker Swarm, a slice of ip_range per node. */
export interface SwarmDeclaration {
  /** in slot order; null = a slot kept empty (a node that was removed: the nodes after it keep their slices) */
  nodes: (SwarmNodeDeclaration | null)[];
  /** `slice: /N`; default: the largest block that gives every slot one */
  slicePrefix?: number;
  /** the swarm network is created --attachable (standalone containers may join it) */
  attachable: boolean;
}

/** Which engine this is, from its own /info (never the OS hostname). */
export interface SwarmSelf {
  /** the engine's Name: its host name, which is also its swarm node's hostname */
  name: string;
  /** '' when the engine is in no swarm */
  nodeId: string;
  /** a manager: it can list nodes and tasks and create swarm-scoped networks */
  manager: boolean;
  /** 'inactive' | 'pending' | 'active' | 'error' | 'locked' */
  state: string;
}

export interface SwarmNodeFact {
  id: string;
  /** Description.Hostname: what the node's engine reports as its Name */
  hostname: string;
  role: 'manager' | 'worker';
  /** 'ready' | 'down' | 'unknown' | 'disconnected' */
  state: string;
  /** 'active' | 'pause' | 'drain' */
  availability: string;
  /** the node's address in the swarm */
  addr?: string;
}

export interface SwarmTaskFact {
  id: string;
  serviceId: string;
  /** undefined when the service is gone */
  serviceName?: string;
  nodeId?: string;
  slot?: number;
  /** Status.State: 'running', 'rejected', 'failed', 'shutdown', … */
  state: string;
  desiredState: string;
  /** Status.Err */
  error?: string;
  /** Status.Timestamp (ISO) */
  timestamp?: string;
  /** the task's address on the network, from the network's own endpoint list (swarm does not record macvlan addresses in the task) */
  address?: IpAddress;
}

export interface SwarmFleetFacts {
  /** the swarm-scoped network's name */
  network: string;
  /** its config-only network, when it exists (ConfigFrom) */
  configFrom?: string;
  /** false when the manager has no such swarm network (yet) */
  networkExists: boolean;
  nodes: SwarmNodeFact[];
  /** every task that names the network, in any state (swarm keeps a few failed ones per slot) */
  tasks: SwarmTaskFact[];
}

/**
 * A planned (and recorded) swarm network's node part: enough for `status`, `doctor` and `destroy` to
 * work from the record alone, without the file.
 */
export interface PlannedSwarm {
  /** this node, as its engine names itself */
  node: string;
  nodeId: string;
  manager: boolean;
  /** the node's config-only network (`<name>-config`) */
  configOnly: string;
  attachable: boolean;
  /** the fleet's whole ip_range and the slice size */
  range: string;
  slicePrefix: number;
  /** every listed node's slice and shim address, in slot order */
  slices: { node: string; index: number; slice: string; shim: string; parent?: string }[];
  /** slots kept empty (`~`) */
  emptySlots: { index: number; slice: string }[];
}
