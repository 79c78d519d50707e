/**
 * Whether a running container still has its interface on a macvlan network.
 *
 * When a parent is deleted, the kernel deletes every macvlan on it, the
 * containers' included; Docker does not notice and the container runs on with
 * only `lo`. Its network namespace is read through /proc/PID/net/route (PID
 * = the container's init, from the Engine API): the connected route of the
 * network's subnet is there exactly while the interface is. A file read, no
 * process spawned and nothing entered.
 */
import { readFileSync } from 'node:fs';

/** IPv4 routes of /proc/PID/net/route as [interface, destination, mask] (host byte order undone). */
export function parseProcRoute(text: string): { iface: string; destination: number; mask: number }[] {
  const out: { iface: string; destination: number; mask: number }[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const dest = Number.parseInt(f[1]!, 16);
    const mask = Number.parseInt(f[7]!, 16);
    if (!Number.isFinite(dest) || !Number.isFinite(mask)) continue;
    // The kernel prints the __be32 as a host-order (little-endian) number.
    out.push({ iface: f[0]!, destination: swap32(dest), mask: swap32(mask) });
  }
  return out;
}

function swap32(n: number): number {
  return (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | ((n >>> 24) & 0xff)) >>> 0;
}

function v4ToNumber(address: string): number {
  return address.split('.').reduce((acc, o) => ((acc << 8) | Number(o)) >>> 0, 0);
}

/** Whether the route table has a route for exactly `subnet` ("198.51.100.0/24"). */
export function hasSubnetRoute(routeText: string, subnet: string): boolean {
  const [addr, len] = subnet.split('/');
  const bits = Number(len);
  if (!addr || !Number.isInteger(bits) || bits < 0 || bits > 32 || addr.includes(':')) return false;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const dest = (v4ToNumber(addr) & mask) >>> 0;
  return parseProcRoute(routeText).some((r) => r.destination === dest && r.mask === mask);
}

/** /proc/PID/net/route, or undefined when the process is gone. */
export function readNetnsRoutes(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/net/route`, 'utf8');
  } catch {
    return undefined;
  }
}
