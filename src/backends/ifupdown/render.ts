/**
 * ifupdown (Debian's /etc/network/interfaces): one `inet manual` stanza in
 * /etc/network/interfaces.d/macvlanctl-NAME that builds the shim exactly as
 * apply does, and removes it on ifdown.
 *
 * Order, as ifup runs it: `pre-up` lines, then the manual method (which sets
 * the link up), then `up` lines. So the link, its alias, its sysctls and its
 * addresses are set before the link goes up (arp_notify announces addresses
 * present at link-up by gratuitous ARP), and routes after (the kernel refuses
 * routes through a link that is down). `post-down` deletes the link, which
 * takes its addresses and routes with it.
 *
 * ifup must also succeed when the shim is already there exactly as apply
 * made it: apply records it with ifupdown that way (src/backends/ifupdown/load.ts),
 * and `systemctl restart networking` runs `ifup -a` again. So each step is
 * skipped when already done, and still fails loudly rather than take over
 * something that is not ours: a link of that name with another MAC makes
 * `ip link add` refuse it, a route to the range through another interface
 * makes `ip route add` refuse it. The addresses are `replace`d: they sit on
 * our own link, checked by the first line (by its MAC only: a link with our
 * MAC on another parent or in another mode is taken as ours too; apply
 * re-creates such a link, a bare `ifup -a` keeps it). Likewise `ifdown` succeeds when
 * the shim is already gone. ifup runs each line with
 * /bin/sh -c; the values in them are interface names, MACs and addresses
 * that were validated on the way in.
 */
import type { PlannedNetwork } from '../../model/plan.js';
import { shimAlias } from '../../model/labels.js';
import { lines, managedHeader, shimFamilies } from '../render-common.js';
import type { RenderedFile } from '../rendered-file.js';

export const INTERFACES_D = '/etc/network/interfaces.d';

export function ifupdownFileName(network: string): string {
  return `macvlanctl-${network}`;
}

export function ifupdownPath(network: string): string {
  return `${INTERFACES_D}/${ifupdownFileName(network)}`;
}

export function renderIfupdown(n: PlannedNetwork): RenderedFile[] {
  const f = shimFamilies(n);
  if (!f) return [];
  const { shim } = f;
  const dev = shim.interface;
  const ipv6Conf = `/proc/sys/net/ipv6/conf/${dev}`;
  // A VLAN parent that Docker creates at run time is made here at boot, before the shim goes on it (and left alone on ifdown: it is Docker's).
  const vlan = n.vlan
    ? [`pre-up ip link show dev ${n.parent} >/dev/null 2>&1 || ip link add link ${n.vlan.link} name ${n.parent} type vlan id ${n.vlan.id}`, `pre-up ip link set dev ${n.parent} up`]
    : [];
  const body: string[] = [
    ...vlan,
    `pre-up ip link show dev ${dev} 2>/dev/null | grep -q 'link/ether ${shim.mac} ' || ip link add ${dev} link ${n.parent} address ${shim.mac} type macvlan mode ${shim.mode}`,
    `pre-up ip link set dev ${dev} alias ${shimAlias(n.name)}`,
    // No gratuitous ARP from an adopted shim: it shares the host's own address (src/apply/operations.ts).
    `pre-up echo ${shim.containerRoutes ? 0 : 1} > /proc/sys/net/ipv4/conf/${dev}/arp_notify`,
  ];
  if (f.v6) {
    // Keep the link-local address, but never take addresses or routes from router advertisements.
    body.push(`pre-up echo 0 > ${ipv6Conf}/accept_ra`);
  } else {
    // No IPv6 on the shim at all (when the kernel has IPv6): no link-local, no SLAAC, no RA routes.
    body.push(`pre-up test ! -d ${ipv6Conf} || echo 1 > ${ipv6Conf}/disable_ipv6`);
  }
  body.push(`pre-up ip addr replace ${shim.address}/32 dev ${dev}`);
  if (f.v6) body.push(`pre-up ip -6 addr replace ${f.v6.address}/128 dev ${dev} nodad`);
  for (const r of f.routes4) body.push(`up ip route show ${r} dev ${dev} | grep -q . || ip route add ${r} dev ${dev}`);
  for (const r of f.v6?.routes ?? []) body.push(`up ip -6 route show ${r} dev ${dev} | grep -q . || ip -6 route add ${r} dev ${dev}`);
  // Containers reach the host's own IPv6 address through proxy NDP on the shim (src/plan/proxy-ndp.ts).
  if (f.v6?.proxies.length) {
    body.push(`up echo 1 > ${ipv6Conf}/proxy_ndp`, `up echo 1 > ${ipv6Conf}/forwarding`);
    for (const a of f.v6.proxies) body.push(`up ip -6 neigh replace proxy ${a} dev ${dev}`);
  }
  // Already gone (macvlanctl down, or deleted by hand) is fine: ifdown then only forgets it.
  body.push(`post-down ! ip link show dev ${dev} >/dev/null 2>&1 || ip link del dev ${dev}`);

  const content = lines(managedHeader(n.name), `auto ${dev}`, `iface ${dev} inet manual`, ...body.map((l) => `    ${l}`));
  return [{ path: ifupdownPath(n.name), content, mode: 0o644 }];
}
