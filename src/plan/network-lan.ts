/**
 * What a fresh scan of a network's LAN says about it, for `status`: the live
 * hosts that are not this host's, those inside the network's ip-range (where
 * Docker may hand their address to a container), DHCP offers and each
 * server's estimated pool. Pure.
 */
import type { HostFacts } from '../model/facts.js';
import { type LanScan, scanAgeSeconds } from '../model/lan.js';
import { cidrContains, formatAddress, parseCidr } from '../net/address.js';
import { estimateDhcpPools } from './dhcp-pool.js';
import { lanView } from './lan-view.js';
import type { NetworkLan, NetworkStatus } from './network-status.js';

/** The scan's findings for one network (pure): live hosts that are not ours, those inside its range, offers and pools. */
export function networkLan(n: NetworkStatus, scan: LanScan, facts: HostFacts, now: Date): NetworkLan | undefined {
  if (!n.subnet) return undefined;
  const subnet = parseCidr(n.subnet);
  const view = lanView(scan, 4, subnet, facts, []);
  const out: NetworkLan = { scannedAt: scan.scannedAt, ageSeconds: scanAgeSeconds(scan, now) };
  if (scan.live) {
    out.live = view.live.map((h) => ({ address: formatAddress(h.address), mac: h.mac }));
    const range = n.ipRange ? parseCidr(n.ipRange) : undefined;
    out.inRange = range ? view.live.filter((h) => cidrContains(range, h.address)).map((h) => formatAddress(h.address)) : [];
  }
  if (scan.dhcp) {
    out.dhcp = {
      servers: scan.dhcp.servers.map((x) => x.address),
      offers: view.offers.map((o) => formatAddress(o.address)),
      pools: estimateDhcpPools(scan.dhcp.offers, subnet).map((p) => ({ server: p.server, ...p.pool })),
    };
  }
  return out;
}
