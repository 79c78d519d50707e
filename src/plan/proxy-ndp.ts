/**
 * Containers reaching the host at its own IPv6 address. Pure.
 *
 * Over IPv4 a container reaches the host's own address because Linux answers
 * ARP for any local address on any interface. IPv6 neighbour discovery
 * answers only for addresses on the receiving interface, and the shim holds
 * only its /128. So the shim answers for the host's addresses by proxy NDP
 * (net.ipv6.conf.SHIM.proxy_ndp=1 and .forwarding=1 on the shim only, and a
 * proxy entry per address), rather than holding a copy of them as /128 nodad:
 *
 * - A copy answers the LAN's solicitations too, at once and with the Override
 *   flag: in the lab the router's neighbour entry for the host's address
 *   swung to the shim's MAC every time (also with the copy deprecated).
 *   Proxied answers are delayed and carry no Override flag: the router kept
 *   eno1's MAC. A copy is also a second local address that outlives the real
 *   one when SLAAC or the network manager drops it.
 * - forwarding=1 on the shim alone makes the host forward nothing (that is
 *   net.ipv6.conf.all.forwarding, untouched); on that one interface it ignores
 *   router advertisements (the shim has accept_ra=0 anyway) and sets the
 *   Router flag in its advertisements, which containers only note.
 *
 * Which addresses: the parent's global addresses inside the network's IPv6
 * subnet that are stable — static, or SLAAC's stable/EUI-64 ones — and not
 * deprecated or tentative. Temporary (privacy) addresses are left out: the
 * host uses them only as sources for its own outgoing connections and they
 * rotate daily, so nobody is given one to reach the host at. Deprecated ones
 * are on their way out; a new stable address is picked up by the next `up`,
 * `apply`, or boot (the systemd unit runs `up`), and status and doctor report
 * the difference until then.
 */
import type { HostFacts, InterfaceFact } from '../model/facts.js';
import { type Cidr, cidrContains, formatAddress } from '../net/address.js';

/** The host's addresses the shim should answer for, in the order the parent has them. */
export function hostAddressesToProxy(parent: InterfaceFact | undefined, subnet6: Cidr, shimAddress6?: string): string[] {
  if (!parent) return [];
  const out: string[] = [];
  for (const a of parent.addresses) {
    if (a.address.family !== 6 || a.temporary || a.deprecated || !cidrContains(subnet6, a.address)) continue;
    const text = formatAddress(a.address);
    if (text !== shimAddress6 && !out.includes(text)) out.push(text);
  }
  return out;
}

/** The proxy entries on a device now. */
export function proxiesOn(facts: HostFacts, device: string): string[] {
  return (facts.proxies6 ?? []).filter((p) => p.device === device).map((p) => formatAddress(p.address));
}
