/**
 * The fleet view of one swarm network (#13), pure: every swarm node with its slice and its tasks'
 * addresses, and what is wrong:
 *   - task-outside-slice   a running task whose address is not in its node's slice (a node whose
 *                          config-only network holds another range than the file says);
 *   - duplicate-address    two running tasks with one address (identical ranges on two nodes);
 *   - node-without-slice   a swarm node the file does not list: tasks placed there fail; named with the
 *                          placement constraints that keep services off it (a warning only for
 *                          a drained node: no task is placed there);
 *   - listed-not-in-swarm  a listed name no swarm node has (a typo, or a node not joined yet);
 *   - missing-config-network  tasks that failed with "configuration network … does not exist";
 *   - task-address-unseen  running tasks whose address this manager's endpoint list does not hold (yet):
 *                          the two address checks above say nothing about them, so they are not passed
 *                          over in silence.
 * `status NAME` shows the rows; `doctor` turns the findings into checks.
 */
import type { Cidr } from '../model/address.js';
import type { SwarmFleetFacts, SwarmNodeFact, SwarmTaskFact } from '../model/swarm.js';
import { cidrContains, formatAddress, formatCidr } from '../net/address.js';
import type { SwarmSlicePlan } from './swarm-slices.js';

export interface FleetTaskRow {
  id: string;
  service: string;
  slot?: number;
  state: string;
  address?: string;
  /** the address lies in the node's slice (undefined: no address or no slice) */
  inSlice?: boolean;
}

export interface FleetNodeRow {
  node: string;
  id: string;
  role: 'manager' | 'worker';
  state: string;
  availability: string;
  /** undefined: the file lists no such node */
  slice?: string;
  shim?: string;
  /** running tasks on the network, by slot */
  tasks: FleetTaskRow[];
}

export type FleetFindingKind = 'task-outside-slice' | 'duplicate-address' | 'task-address-unseen' | 'node-without-slice' | 'listed-not-in-swarm' | 'missing-config-network';

export interface FleetFinding {
  kind: FleetFindingKind;
  /** fail: broken now; warn: worth fixing */
  severity: 'fail' | 'warn';
  /** one sentence, for display only */
  message: string;
  /** what to do, for display only */
  fix?: string;
  nodes: string[];
  tasks: string[];
  addresses: string[];
  /** placement constraints that keep tasks off the nodes without a slice */
  constraints?: string[];
}

export interface FleetView {
  network: string;
  networkExists: boolean;
  range: string;
  slicePrefix: number;
  nodes: FleetNodeRow[];
  /** slots of the file whose node is not (yet) in the swarm */
  unplacedSlices: { node: string; slice: string }[];
  findings: FleetFinding[];
}

/** matches the engine's task error for a node without the config-only network (moby#33437) */
const MISSING_CONFIG = /configuration network .* does not exist/;

const running = (t: SwarmTaskFact): boolean => t.state === 'running';
const nameOf = (n: SwarmNodeFact): string => n.hostname || n.id;
const taskLabel = (t: SwarmTaskFact): string => `${t.serviceName ?? t.serviceId}${t.slot !== undefined ? `.${t.slot}` : ''}`;

function bySlot(a: FleetTaskRow, b: FleetTaskRow): number {
  return a.service.localeCompare(b.service) || (a.slot ?? 0) - (b.slot ?? 0) || a.id.localeCompare(b.id);
}

/** the constraints that keep a service's tasks off `without`, given the nodes that have a slice */
export function avoidingConstraints(without: readonly string[], withSlice: readonly string[]): string[] {
  if (withSlice.length === 1) return [`node.hostname==${withSlice[0]}`];
  return without.map((n) => `node.hostname!=${n}`);
}

export function assessFleet(facts: SwarmFleetFacts, slices: SwarmSlicePlan): FleetView {
  const nodeById = new Map(facts.nodes.map((n) => [n.id, n]));
  const rows = nodeRows(facts, slices);
  const inSwarm = new Set(facts.nodes.map((n) => n.hostname));
  const unplacedSlices = slices.slices.filter((s) => !inSwarm.has(s.node)).map((s) => ({ node: s.node, slice: formatCidr(s.slice) }));
  const findings: FleetFinding[] = [
    ...rows.flatMap(outsideSliceFindings),
    ...duplicateAddressFindings(facts, nodeById),
    ...unseenAddressFindings(rows, facts.network),
    ...nodesWithoutSliceFindings(rows, facts.network),
    ...listedNotInSwarmFindings(unplacedSlices, inSwarm),
    ...missingConfigFindings(facts, rows, nodeById),
  ];
  return {
    network: facts.network,
    networkExists: facts.networkExists,
    range: formatCidr(slices.range),
    slicePrefix: slices.slicePrefix,
    nodes: rows,
    unplacedSlices,
    findings,
  };
}

/** One row per swarm node with its slice and running tasks: the file's order first, then the unlisted nodes by name. */
function nodeRows(facts: SwarmFleetFacts, slices: SwarmSlicePlan): FleetNodeRow[] {
  const sliceOf = new Map(slices.slices.map((s) => [s.node, s]));
  const rows: FleetNodeRow[] = facts.nodes.map((n) => {
    const s = sliceOf.get(n.hostname);
    const tasks = facts.tasks
      .filter((t) => t.nodeId === n.id && running(t))
      .map((t) => taskRow(t, s?.slice))
      .sort(bySlot);
    const row: FleetNodeRow = { node: nameOf(n), id: n.id, role: n.role, state: n.state, availability: n.availability, tasks };
    if (s) {
      row.slice = formatCidr(s.slice);
      row.shim = formatAddress(s.shim);
    }
    return row;
  });
  const order = new Map(slices.slices.map((s, i) => [s.node, i]));
  return rows.sort((a, b) => (order.get(a.node) ?? Infinity) - (order.get(b.node) ?? Infinity) || a.node.localeCompare(b.node));
}

/** A task as the view shows it, with whether its address lies in its node's slice (unknown without a slice or an address). */
function taskRow(t: SwarmTaskFact, slice: Cidr | undefined): FleetTaskRow {
  const row: FleetTaskRow = { id: t.id, service: t.serviceName ?? t.serviceId, state: t.state };
  if (t.slot !== undefined) row.slot = t.slot;
  if (t.address) {
    row.address = formatAddress(t.address);
    if (slice) row.inSlice = cidrContains(slice, t.address);
  }
  return row;
}

/** Running tasks whose addresses lie outside their node's slice (the file and the node's config-only network disagree). */
function outsideSliceFindings(r: FleetNodeRow): FleetFinding[] {
  const outside = r.tasks.filter((t) => t.inSlice === false);
  if (outside.length === 0) return [];
  return [{
    kind: 'task-outside-slice',
    severity: 'fail',
    message: `${outside.length} task${outside.length === 1 ? '' : 's'} on ${r.node} hold${outside.length === 1 ? 's' : ''} addresses outside its slice ${r.slice}: ${outside.map((t) => `${t.service}.${t.slot ?? '?'} ${t.address}`).join(', ')}`,
    fix: `run apply -f on ${r.node}: its config-only network must hold ${r.slice}, then let its tasks be re-created (docker service update --force)`,
    nodes: [r.node],
    tasks: outside.map((t) => t.id),
    addresses: outside.map((t) => t.address!),
  }];
}

/** An address held by more than one running task, as identical ranges on two nodes give (moby#33793). */
function duplicateAddressFindings(facts: SwarmFleetFacts, nodeById: Map<string, SwarmNodeFact>): FleetFinding[] {
  const holders = new Map<string, SwarmTaskFact[]>();
  for (const t of facts.tasks) {
    if (!running(t) || !t.address) continue;
    const key = formatAddress(t.address);
    holders.set(key, [...(holders.get(key) ?? []), t]);
  }
  const findings: FleetFinding[] = [];
  for (const [address, ts] of [...holders].sort(([a], [b]) => a.localeCompare(b))) {
    if (ts.length < 2) continue;
    const nodes = [...new Set(ts.map((t) => (t.nodeId && nodeById.get(t.nodeId) ? nameOf(nodeById.get(t.nodeId)!) : '?')))];
    findings.push({
      kind: 'duplicate-address',
      severity: 'fail',
      message: `${address} is held by ${ts.length} tasks (${ts.map(taskLabel).join(', ')}) on ${nodes.join(', ')}`,
      fix: `give every node its own slice: run apply -f on ${nodes.join(', ')}`,
      nodes,
      tasks: ts.map((t) => t.id),
      addresses: [address],
    });
  }
  return findings;
}

/** Running tasks with no address in the manager's endpoint list: their slice and uniqueness cannot be checked. */
function unseenAddressFindings(rows: FleetNodeRow[], network: string): FleetFinding[] {
  const unseen = rows.flatMap((r) => r.tasks.filter((t) => t.address === undefined).map((t) => ({ node: r.node, task: t })));
  if (unseen.length === 0) return [];
  const one = unseen.length === 1;
  return [{
    kind: 'task-address-unseen',
    severity: 'warn',
    message: `${unseen.length} running task${one ? '' : 's'} of ${network} ${one ? 'has' : 'have'} no address in this manager's view of the network's endpoints, so ${one ? 'its' : 'their'} slice and uniqueness are unchecked: ${unseen.map((u) => `${u.task.service}.${u.task.slot ?? '?'} on ${u.node}`).join(', ')}`,
    fix: `look again in a few seconds (the endpoint list follows the tasks), or run status ${network} on a manager that runs tasks of ${network}`,
    nodes: [...new Set(unseen.map((u) => u.node))],
    tasks: unseen.map((u) => u.task.id),
    addresses: [],
  }];
}

/**
 * Swarm nodes without a slice: tasks placed there fail. A drained node gets no tasks, so its missing
 * slice breaks nothing now (dedicated managers are often drained and never listed): a warning, said
 * apart from the nodes whose tasks fail today.
 */
function nodesWithoutSliceFindings(rows: FleetNodeRow[], network: string): FleetFinding[] {
  const findings: FleetFinding[] = [];
  const listed = rows.filter((r) => r.slice !== undefined).map((r) => r.node);
  const withoutSlice = rows.filter((r) => r.slice === undefined);
  const unlisted = withoutSlice.filter((r) => r.availability !== 'drain').map((r) => r.node);
  const drained = withoutSlice.filter((r) => r.availability === 'drain').map((r) => r.node);
  if (unlisted.length > 0) {
    const constraints = avoidingConstraints(unlisted, listed);
    findings.push({
      kind: 'node-without-slice',
      severity: 'fail',
      message: `swarm node${unlisted.length === 1 ? '' : 's'} ${unlisted.join(', ')} ${unlisted.length === 1 ? 'has' : 'have'} no slice of ${network}: tasks placed there fail ("configuration network … does not exist")`,
      fix: `add ${unlisted.length === 1 ? 'it' : 'them'} to networks.${network}.swarm.nodes and run apply -f there, or keep services off: ${constraints.map((c) => `--constraint '${c}'`).join(' ')}`,
      nodes: unlisted,
      tasks: [],
      addresses: [],
      constraints,
    });
  }
  if (drained.length > 0) {
    const one = drained.length === 1;
    findings.push({
      kind: 'node-without-slice',
      severity: 'warn',
      message: `swarm node${one ? '' : 's'} ${drained.join(', ')} ${one ? 'has' : 'have'} no slice of ${network}, and ${one ? 'is' : 'are'} drained: no task is placed there now`,
      fix: `before making ${one ? 'it' : 'them'} active again, add ${one ? 'it' : 'them'} to networks.${network}.swarm.nodes and run apply -f there`,
      nodes: drained,
      tasks: [],
      addresses: [],
    });
  }
  return findings;
}

/** Names in the file that no swarm node has: a typo, or a node not joined yet. */
function listedNotInSwarmFindings(unplacedSlices: FleetView['unplacedSlices'], inSwarm: Set<string>): FleetFinding[] {
  if (unplacedSlices.length === 0) return [];
  return [{
    kind: 'listed-not-in-swarm',
    severity: 'warn',
    message: `listed node${unplacedSlices.length === 1 ? '' : 's'} ${unplacedSlices.map((u) => u.node).join(', ')} ${unplacedSlices.length === 1 ? 'is' : 'are'} not in the swarm (swarm nodes: ${[...inSwarm].sort().join(', ')})`,
    fix: `check the names (a node's name is what its engine reports: docker info --format '{{.Name}}'), or join the node`,
    nodes: unplacedSlices.map((u) => u.node),
    tasks: [],
    addresses: [],
  }];
}

/**
 * Failures for a missing config-only network, per node: a failure while no task of the network has run
 * there since the last one, a warning once tasks run there again (swarm keeps a few failed tasks per
 * slot for a while).
 */
function missingConfigFindings(facts: SwarmFleetFacts, rows: FleetNodeRow[], nodeById: Map<string, SwarmNodeFact>): FleetFinding[] {
  const failedOn = new Map<string, SwarmTaskFact[]>();
  for (const t of facts.tasks) {
    if (!t.error || !MISSING_CONFIG.test(t.error)) continue;
    const node = t.nodeId && nodeById.get(t.nodeId) ? nameOf(nodeById.get(t.nodeId)!) : t.nodeId ?? '?';
    failedOn.set(node, [...(failedOn.get(node) ?? []), t]);
  }
  return [...failedOn].sort(([a], [b]) => a.localeCompare(b)).map(([node, ts]): FleetFinding => {
    const last = ts.map((t) => t.timestamp ?? '').sort().at(-1) ?? '';
    // by name: a node that left and joined again is listed twice (the old entry down), under one hostname
    const row = rows.find((r) => r.node === node);
    const ids = new Set(rows.filter((r) => r.node === node).map((r) => r.id));
    const recovered = facts.tasks.some((t) => running(t) && t.nodeId !== undefined && ids.has(t.nodeId) && (t.timestamp ?? '') > last);
    return {
      kind: 'missing-config-network',
      severity: recovered ? 'warn' : 'fail',
      message: `${ts.length} task${ts.length === 1 ? '' : 's'} failed on ${node} for a missing config-only network${facts.configFrom ? ` ${facts.configFrom}` : ''} (last ${last || 'at an unknown time'})${recovered ? '; tasks run there since' : ''}`,
      fix: row?.slice === undefined ? `add ${node} to networks.${facts.network}.swarm.nodes and run apply -f on ${node}` : `run apply -f on ${node}`,
      nodes: [node],
      tasks: ts.map((t) => t.id),
      addresses: [],
    };
  });
}
