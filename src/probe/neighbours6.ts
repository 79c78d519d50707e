/**
 * The pure half of the IPv6 neighbour probe that the scan worker runs next to
 * the ARP sweep (scan-worker.ts does the I/O). Node built-ins only: the
 * worker is a bundle of its own.
 *
 * How it works, and why (each step checked in lab namespaces):
 * - The probe macvlan gets one temporary address inside the IPv6 subnet (a
 *   random host part, `nodad`: no second of duplicate detection; chosen by
 *   probe-address6.ts) and no link-local address at all (addr_gen_mode 1).
 * - One ICMPv6 echo request goes to ff02::1 (all nodes) through that
 *   interface. Linux answers an echo to a multicast group from the source
 *   address it would pick for the *requester's* address: asked from a global
 *   address in the subnet, a host answers from its own address in that
 *   subnet; a host with none there answers from a link-local address only if
 *   it has a route back (usually it has none, and stays silent).
 * - To answer, each neighbour must first resolve our fresh address: its
 *   neighbour solicitation carries its MAC, so our kernel files it under the
 *   address it answers from (STALE, then DELAY once our advertisement goes
 *   back). Reading our namespace's IPv6 neighbour table after a short window
 *   therefore gives address and MAC of every responder, without parsing the
 *   ping program's output. In the lab every answer is in within 1 ms.
 * - Node has no raw or ICMP sockets, so the echo is sent by the system's ping
 *   (iputils `ping -6`, else busybox's).
 */
import { answeredEntries } from './sweep.js';

/** `ip -json -6 neigh show dev IF` → the IPv6 entries that carry a MAC (multicast and zero MACs left out). */
export function answeredNeighbours6(json: string): { address: string; mac: string }[] {
  const out: { address: string; mac: string }[] = [];
  const seen = new Set<string>();
  for (const { dst, mac } of answeredEntries(json)) {
    // 33:33:… is an IPv6 multicast MAC, never a host's own.
    if (!dst.includes(':') || mac.startsWith('33:33:')) continue;
    const address = dst.toLowerCase();
    if (seen.has(address)) continue;
    seen.add(address);
    out.push({ address, mac });
  }
  return out;
}

/**
 * How to send one echo request to ff02::1 out of `ifname`, per ping program.
 * It may exit at the first answer (our own, looped back): the request has
 * left by then, and the answers are the kernel's business, not ping's. `-w 1`
 * caps its life when nothing answers. The source address is the kernel's
 * choice for a link-scope destination on that interface: with no link-local
 * address there, our one global address.
 */
export function allNodesPing(program: 'iputils' | 'busybox', ifname: string): { file: string; args: string[] } {
  const common = ['-6', '-n', '-c', '1', '-w', '1', '-I', ifname, 'ff02::1'];
  return program === 'iputils' ? { file: 'ping', args: common } : { file: 'busybox', args: ['ping', ...common.filter((a) => a !== '-n')] };
}

/** The sysctls (paths under /proc/sys) that make the probe interface speak IPv6 with our one address and nothing else. */
export function ipv6Sysctls(ifname: string): [string, string][] {
  return [
    [`net/ipv6/conf/${ifname}/disable_ipv6`, '0'],
    // Our neighbours' entries stay as they answered: no unicast NS of ours goes to confirm them later.
    [`net/ipv6/neigh/${ifname}/ucast_solicit`, '0'],
    [`net/ipv6/neigh/${ifname}/app_solicit`, '0'],
  ];
}

/** The namespace-wide IPv6 defaults, set before the probe interface arrives so it is born with them. */
export const IPV6_DEFAULTS: readonly [string, string][] = [
  // No link-local address: no DAD, no router solicitation, and nothing for replies to come back to but our one address.
  ['net/ipv6/conf/default/addr_gen_mode', '1'],
  // Router advertisements change nothing here (no SLAAC address, no default route).
  ['net/ipv6/conf/default/accept_ra', '0'],
  ['net/ipv6/conf/default/autoconf', '0'],
  ['net/ipv6/conf/default/router_solicitations', '0'],
  ['net/ipv6/conf/default/accept_dad', '0'],
  ['net/ipv6/conf/default/dad_transmits', '0'],
];
