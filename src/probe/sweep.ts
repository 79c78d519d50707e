/**
 * The pure half of the live-host sweep (the worker in scan-worker.ts does the
 * I/O): which addresses to probe, in which aligned blocks, at what pace, the
 * `ip -batch` lines that make the kernel ARP for them, and how to read the
 * neighbour table that comes back.
 *
 * How the sweep works, and why (each step checked in lab namespaces):
 * - The probe interface is a macvlan child of the parent in a namespace of its
 *   own, with NO IPv4 address. `ip neigh replace ADDR dev IF use` asks the
 *   kernel to resolve ADDR without sending a datagram; with no address to
 *   speak from, the kernel's ARP request carries sender 0.0.0.0 (an RFC 5227
 *   probe). Hosts answer it, but do not put the asker in their neighbour
 *   tables, and nobody learns a wrong MAC for the host's own address.
 * - The namespace must have its loopback up first: until some address exists
 *   the namespace has no local routing table, and the kernel then treats every
 *   destination as broadcast (NOARP entries, no ARP at all).
 * - The neighbour table is one kernel table shared by all namespaces
 *   (gc_thresh2 = 512 entries by default before the kernel starts evicting,
 *   host entries included), so at most `maxInFlight` of our entries exist at
 *   once: each block is flushed once its answers are read.
 */
import { neighbourHoldsMac } from '../model/neighbour-states.js';

/** First and last address to probe in an IPv4 subnet given as (base, prefix): the network and broadcast addresses are skipped up to /30. */
export function sweepRange(base: number, prefix: number): { first: number; last: number; count: number } {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new RangeError(`prefix ${prefix} is not 0..32`);
  const size = 2 ** (32 - prefix);
  const network = base - (base % size);
  if (prefix >= 31) return { first: network, last: network + size - 1, count: size };
  return { first: network + 1, last: network + size - 2, count: size - 2 };
}

export interface SweepBlock {
  /** The aligned block, as `ip neigh flush … to` takes it. */
  cidr: string;
  /** The addresses of the block that are probed. */
  first: number;
  last: number;
}

/**
 * The range [first, last] cut into blocks aligned on `blockSize` (a power of
 * two), in order. A generator: a /16 never exists as a list.
 */
export function* sweepBlocks(first: number, last: number, blockSize: number): Generator<SweepBlock> {
  if (!(blockSize >= 1 && Number.isInteger(Math.log2(blockSize)))) throw new RangeError(`block size ${blockSize} is not a power of two`);
  const prefix = 32 - Math.log2(blockSize);
  for (let start = first - (first % blockSize); start <= last; start += blockSize) {
    yield { cidr: `${formatIpv4(start)}/${prefix}`, first: Math.max(start, first), last: Math.min(start + blockSize - 1, last) };
  }
}

export function formatIpv4(n: number): string {
  return `${Math.floor(n / 2 ** 24) % 256}.${Math.floor(n / 2 ** 16) % 256}.${Math.floor(n / 2 ** 8) % 256}.${n % 256}`;
}

export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) throw new RangeError(`'${text}' is not an IPv4 address`);
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** The `ip -batch` line that makes the kernel resolve one address (an ARP probe) without sending it anything. */
export function resolveLine(address: number, ifname: string): string {
  return `neigh replace ${formatIpv4(address)} dev ${ifname} use`;
}

export function flushLine(block: SweepBlock, ifname: string): string {
  return `neigh flush dev ${ifname} to ${block.cidr}`;
}

/**
 * How many probes may have gone out `elapsedMs` after the start at `rate`
 * per second. One tick's worth may go at once (timers fire every few
 * milliseconds, not per packet).
 */
export function probesAllowed(rate: number, elapsedMs: number): number {
  return Math.floor((rate * Math.max(0, elapsedMs)) / 1000) + 1;
}


interface IpNeighEntry {
  dst?: string;
  lladdr?: string;
  state?: string[];
}

/**
 * `ip -json neigh show …` → the entries of either family that answered with
 * a MAC (lower case; broadcast and zero MACs left out). Both the ARP sweep
 * and the IPv6 all-nodes echo read their answers this way.
 */
export function answeredEntries(json: string): { dst: string; mac: string }[] {
  const trimmed = json.trim();
  if (!trimmed) return [];
  const out: { dst: string; mac: string }[] = [];
  for (const e of JSON.parse(trimmed) as IpNeighEntry[]) {
    if (!e.dst || !e.lladdr) continue;
    const mac = e.lladdr.toLowerCase();
    if (mac === 'ff:ff:ff:ff:ff:ff' || mac === '00:00:00:00:00:00') continue;
    if (!neighbourHoldsMac(e.state)) continue;
    out.push({ dst: e.dst, mac });
  }
  return out;
}

/** `ip -json neigh show dev IF` → the IPv4 entries that carry a MAC. */
export function answeredNeighbours(json: string): { address: string; mac: string }[] {
  return answeredEntries(json)
    .filter((e) => e.dst.includes('.') && !e.dst.includes(':'))
    .map((e) => ({ address: e.dst, mac: e.mac }));
}

/** Live hosts by address order. */
export function sortByAddress<T extends { address: string }>(list: T[]): T[] {
  return list.sort((a, b) => parseIpv4(a.address) - parseIpv4(b.address));
}

/**
 * Block size and in-flight limit from the kernel's neighbour table as it is
 * now: stay under half the room left below gc_thresh2 (past it the kernel
 * starts evicting entries, the host's included), at most 256 entries, in
 * blocks of 64 (fewer when room is short).
 */
export function sweepLimits(table: { thresh2: number; entries: number }): { maxInFlight: number; blockSize: number } {
  const room = Math.floor((table.thresh2 - table.entries) / 2);
  const maxInFlight = Math.max(16, Math.min(256, room));
  const blockSize = maxInFlight >= 128 ? 64 : maxInFlight >= 64 ? 32 : 16;
  return { maxInFlight: maxInFlight - (maxInFlight % blockSize), blockSize };
}
