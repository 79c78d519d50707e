/**
 * Per-node slices of a swarm network's ip_range (#13). Swarm does not allocate macvlan addresses: every
 * node's engine allocates from its own config-only network, so identical ranges give duplicate
 * addresses. Each node therefore gets a disjoint slice, computed the same way on every node from the
 * same file (pure, deterministic, no facts):
 *
 *   - slot i of the `nodes` list (in list order) gets the i-th aligned block of the range;
 *   - the block size is the largest power of two that gives every slot one (3 nodes in a /26 → /28s),
 *     unless `slice: /N` fixes it;
 *   - a slot left empty (`~` in the list: a removed node) keeps its block, unused, so nodes after it
 *     do not move; appending a node moves no one while the list still fits the current slice size (past it,
 *     automatic slices halve and every one moves: the plan warns while the list is full, SWARM_SLICES_FULL);
 *   - the node's shim takes the highest usable address of its slice (never the subnet's network or
 *     broadcast address, nor the gateway), and Docker is told to leave it alone (aux-address).
 */
import type { Cidr, IpAddress } from '../model/address.js';
import { MacvlanError } from '../model/errors.js';
import type { SwarmNodeDeclaration } from '../model/swarm.js';
import { BITS, cidrContains, cidrLast, formatAddress, formatCidr } from '../net/address.js';

export type { SwarmNodeDeclaration } from '../model/swarm.js';

export interface SwarmSliceRequest {
  /** the network's name, for messages */
  network: string;
  /** the fleet's whole ip_range */
  range: Cidr;
  /** the LAN subnet: its network and broadcast addresses are never a shim's */
  subnet?: Cidr;
  gateway?: IpAddress;
  /** in slot order; null = a slot kept empty (a node that was removed) */
  nodes: readonly (SwarmNodeDeclaration | null)[];
  /** `slice: /N`; default: the largest block that gives every slot one */
  slicePrefix?: number;
  /** where `nodes` and `slice` are written (FILE:LINE:COL networks.NAME.swarm.nodes), for messages; default: the key path */
  origins?: { nodes?: string; slice?: string };
}

export interface SwarmSlice {
  node: string;
  /** slot number (position in the list, from 0) */
  index: number;
  slice: Cidr;
  /** the node's shim address: the highest usable address of the slice */
  shim: IpAddress;
  parent?: string;
}

export interface SwarmSlicePlan {
  network: string;
  range: Cidr;
  slicePrefix: number;
  /** how many slices the range holds at this size */
  capacity: number;
  /** one per listed node, in slot order */
  slices: SwarmSlice[];
  /** slots kept empty (`~` in the list), in slot order */
  emptySlots: { index: number; slice: Cidr }[];
}

/** the smallest k with 2^k >= n (n >= 1) */
function bitsFor(n: number): number {
  let k = 0;
  while (2 ** k < n) k++;
  return k;
}

function invalid(message: string, details: Record<string, unknown>): MacvlanError {
  return new MacvlanError('CONFIG_INVALID', message, details);
}

/** The slice's usable addresses, highest first, at most `want` of them (network, broadcast and gateway left out). */
function usableFromTop(slice: Cidr, subnet: Cidr | undefined, gateway: IpAddress | undefined, want: number): bigint[] {
  const out: bigint[] = [];
  const reserved = new Set<bigint>();
  if (subnet && subnet.family === slice.family) {
    reserved.add(subnet.base);
    if (slice.family === 4 && subnet.prefix < 31) reserved.add(cidrLast(subnet));
  }
  if (gateway && gateway.family === slice.family) reserved.add(gateway.value);
  for (let v = cidrLast(slice); v >= slice.base && out.length < want; v--) if (!reserved.has(v)) out.push(v);
  return out;
}

export function planSwarmSlices(req: SwarmSliceRequest): SwarmSlicePlan {
  const { network, range, nodes } = req;
  const bits = BITS[range.family];
  const where = `networks.${network}.swarm`;
  const atNodes = req.origins?.nodes ?? `${where}.nodes`;
  const atSlice = req.origins?.slice ?? `${where}.slice`;
  const count = nodes.length;
  if (count === 0) throw invalid(`${atNodes}: list at least one node`, { network });
  const seen = new Map<string, number>();
  nodes.forEach((n, i) => {
    if (!n) return;
    const first = seen.get(n.name);
    if (first !== undefined) throw invalid(`${atNodes}: node ${n.name} is listed twice (slots ${first} and ${i})`, { network, node: n.name, slots: [first, i] });
    seen.set(n.name, i);
  });

  const hostBits = bits - range.prefix;
  let slicePrefix: number;
  if (req.slicePrefix === undefined) {
    slicePrefix = range.prefix + bitsFor(count);
    // a slice holds the shim and at least one container: 2 addresses at the very least
    if (slicePrefix > bits - 1) {
      const fits = 2 ** Math.max(0, hostBits - 1);
      throw invalid(
        `${atNodes}: ${count} slots need ${count} slices of at least 2 addresses, and ip_range ${formatCidr(range)} holds only ${fits}: widen ip_range`,
        { network, nodes: count, capacity: fits, range: formatCidr(range) },
      );
    }
  } else {
    slicePrefix = req.slicePrefix;
    if (!Number.isInteger(slicePrefix) || slicePrefix < range.prefix || slicePrefix > bits) {
      throw invalid(`${atSlice}: /${slicePrefix} must lie between /${range.prefix} (the whole ip_range ${formatCidr(range)}) and /${bits}`, {
        network,
        slicePrefix,
        range: formatCidr(range),
      });
    }
    const capacity = 2 ** (slicePrefix - range.prefix);
    if (count > capacity) {
      throw invalid(
        `${atNodes}: ${count} slots do not fit: ip_range ${formatCidr(range)} holds ${capacity} slices of /${slicePrefix}; widen ip_range or take smaller slices`,
        { network, nodes: count, capacity, slicePrefix, range: formatCidr(range) },
      );
    }
  }
  const capacity = 2 ** (slicePrefix - range.prefix);
  const size = 1n << BigInt(bits - slicePrefix);

  const slices: SwarmSlice[] = [];
  const emptySlots: { index: number; slice: Cidr }[] = [];
  nodes.forEach((n, index) => {
    const slice: Cidr = { family: range.family, base: range.base + BigInt(index) * size, prefix: slicePrefix };
    if (!n) {
      emptySlots.push({ index, slice });
      return;
    }
    const usable = usableFromTop(slice, req.subnet, req.gateway, 2);
    if (usable.length < 2) {
      throw invalid(
        `${atSlice}: node ${n.name}'s slice ${formatCidr(slice)} has ${usable.length} usable address${usable.length === 1 ? '' : 'es'} ` +
          `(the subnet's own addresses and the gateway${req.gateway ? ` ${formatAddress(req.gateway)}` : ''} left out); it needs 2, for its shim and a container: take larger slices or a wider ip_range`,
        { network, node: n.name, slice: formatCidr(slice), usable: usable.length, needed: 2 },
      );
    }
    const s: SwarmSlice = { node: n.name, index, slice, shim: { family: range.family, value: usable[0]! } };
    if (n.parent !== undefined) s.parent = n.parent;
    slices.push(s);
  });
  return { network, range, slicePrefix, capacity, slices, emptySlots };
}

/** This node's slice, or undefined when the list does not name it. */
export function sliceOfNode(plan: SwarmSlicePlan, node: string): SwarmSlice | undefined {
  return plan.slices.find((s) => s.node === node);
}

/** The listed node whose slice holds `address`, or undefined. */
export function sliceHolding(plan: SwarmSlicePlan, address: IpAddress): SwarmSlice | undefined {
  return plan.slices.find((s) => cidrContains(s.slice, address));
}
