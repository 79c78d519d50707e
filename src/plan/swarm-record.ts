/**
 * A swarm node part as planned and recorded (model PlannedSwarm: strings, JSON-safe) and back to the
 * slice plan the fleet checks read. Pure.
 */
import type { PlannedSwarm } from '../model/swarm.js';
import { formatAddress, formatCidr, parseAddress, parseCidr } from '../net/address.js';
import type { SwarmNodePart } from './swarm-node.js';
import type { SwarmSlicePlan } from './swarm-slices.js';

export function plannedSwarm(part: SwarmNodePart): PlannedSwarm {
  return {
    node: part.node,
    nodeId: part.nodeId,
    manager: part.manager,
    configOnly: part.configOnly,
    attachable: part.attachable,
    range: formatCidr(part.slices.range),
    slicePrefix: part.slices.slicePrefix,
    slices: part.slices.slices.map((s) => ({ node: s.node, index: s.index, slice: formatCidr(s.slice), shim: formatAddress(s.shim), ...(s.parent ? { parent: s.parent } : {}) })),
    emptySlots: part.slices.emptySlots.map((e) => ({ index: e.index, slice: formatCidr(e.slice) })),
  };
}

export function slicePlanOf(network: string, s: PlannedSwarm): SwarmSlicePlan {
  const range = parseCidr(s.range);
  return {
    network,
    range,
    slicePrefix: s.slicePrefix,
    capacity: 2 ** (s.slicePrefix - range.prefix),
    slices: s.slices.map((x) => ({ node: x.node, index: x.index, slice: parseCidr(x.slice), shim: parseAddress(x.shim), ...(x.parent ? { parent: x.parent } : {}) })),
    emptySlots: s.emptySlots.map((e) => ({ index: e.index, slice: parseCidr(e.slice) })),
  };
}
