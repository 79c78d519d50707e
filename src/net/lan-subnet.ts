/**
 * Whether a CIDR can be a LAN subnet at all: the shim takes an address in it
 * and containers are handed addresses from it, so it must be ordinary
 * unicast space of a plausible size. Pure.
 */
import { type Cidr, type Family, formatCidr, parseCidr } from './address.js';
import { cidrToInterval, overlaps } from './intervals.js';

/**
 * The shortest prefix accepted. No LAN segment is larger than a /8 (the whole
 * of 10.0.0.0/8); an IPv6 LAN is a /64 (SLAAC needs it), and a site's whole
 * allocation is a /48, so anything shorter is a typo, not a LAN.
 */
export const SHORTEST_LAN_PREFIX: Record<Family, number> = { 4: 8, 6: 48 };

interface SpecialBlock {
  cidr: Cidr;
  what: string;
}

const SPECIAL: SpecialBlock[] = [
  { cidr: parseCidr('0.0.0.0/8'), what: "the unspecified / 'this network' block 0.0.0.0/8" },
  { cidr: parseCidr('127.0.0.0/8'), what: 'the loopback block 127.0.0.0/8' },
  { cidr: parseCidr('169.254.0.0/16'), what: 'the link-local block 169.254.0.0/16' },
  { cidr: parseCidr('224.0.0.0/4'), what: 'the multicast block 224.0.0.0/4' },
  { cidr: parseCidr('240.0.0.0/4'), what: 'the reserved block 240.0.0.0/4 (with the broadcast address 255.255.255.255)' },
  { cidr: parseCidr('::/127'), what: 'the unspecified address :: and the loopback address ::1' },
  { cidr: parseCidr('::ffff:0:0/96'), what: 'the IPv4-mapped block ::ffff:0:0/96' },
  { cidr: parseCidr('fe80::/10'), what: 'the link-local block fe80::/10' },
  { cidr: parseCidr('ff00::/8'), what: 'the multicast block ff00::/8' },
];

/** Why `subnet` cannot be a LAN's subnet, or undefined when it can. */
export function lanSubnetProblem(subnet: Cidr): string | undefined {
  const shortest = SHORTEST_LAN_PREFIX[subnet.family];
  if (subnet.prefix < shortest) {
    return `${formatCidr(subnet)} is not a LAN: a /${subnet.prefix} spans far more than one network segment (the shortest accepted is /${shortest}); give the LAN's own subnet, as on the parent (ip -br addr)`;
  }
  const iv = cidrToInterval(subnet);
  const hit = SPECIAL.find((s) => s.cidr.family === subnet.family && overlaps(cidrToInterval(s.cidr), iv));
  if (hit) {
    return `${formatCidr(subnet)} is in ${hit.what}, which is never a LAN's unicast addresses: the shim and the containers cannot use them; give the LAN's own subnet, as on the parent (ip -br addr)`;
  }
  return undefined;
}
