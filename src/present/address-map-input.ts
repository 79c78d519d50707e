/**
 * What the address map (address-map.ts) draws for one LAN, from the host's
 * facts and a scan: one builder for `status` (a network's subnet) and `scan`
 * (the scanned subnet), so the two maps cannot show the same LAN differently.
 * Pure.
 */
import type { HostFacts } from '../model/facts.js';
import type { LanScan } from '../model/lan.js';
import { type IpAddress, cidrContains, formatAddress, formatCidr, parseCidr } from '../net/address.js';
import { estimateDhcpPools } from '../plan/dhcp-pool.js';
import type { AddressMapInput } from './address-map.js';

/** The LAN a map is of. */
export interface MapSubject {
  /** IPv4 subnet (CIDR text). */
  subnet: string;
  /** The parent: a macvlan on it is a host-side shim (ours or somebody's), a Docker macvlan network on it is on this LAN. */
  parent: string | undefined;
  gateway: string | undefined;
}

/**
 * This host's addresses and shims in the subnet, the gateway, Docker's
 * ranges and containers on the parent, and what the scan saw (live hosts,
 * DHCP offers, each server's estimated pool). Without facts (they could not
 * be read) only the gateway and the scan are drawn.
 */
export function addressMapInput(subject: MapSubject, facts: HostFacts | undefined, scan: LanScan | undefined): AddressMapInput {
  const subnet = parseCidr(subject.subnet);
  const inSubnet = (a: IpAddress) => a.family === 4 && cidrContains(subnet, a);
  const input: AddressMapInput = { subnet: subject.subnet };
  if (subject.gateway) input.gateway = subject.gateway;
  if (facts) {
    const host: string[] = [];
    const shims: string[] = [];
    for (const i of facts.interfaces) {
      const isShim = i.kind === 'macvlan' && subject.parent !== undefined && i.link === subject.parent;
      for (const a of i.addresses) if (inSubnet(a.address)) (isShim ? shims : host).push(formatAddress(a.address));
    }
    input.host = host;
    input.shims = shims;
    const containers: string[] = [];
    const dockerRanges: string[] = [];
    if (facts.docker.available) {
      for (const d of facts.docker.networks) {
        if (d.driver !== 'macvlan' || d.configOnly || d.parent !== subject.parent) continue;
        for (const s of d.subnets) if (s.ipRange?.family === 4) dockerRanges.push(formatCidr(s.ipRange));
        for (const ct of d.containers) if (ct.ipv4 && inSubnet(ct.ipv4)) containers.push(formatAddress(ct.ipv4));
      }
    }
    input.containers = containers;
    input.dockerRanges = dockerRanges;
  }
  if (scan?.live) input.live = scan.live.map((h) => h.address);
  if (scan?.dhcp) {
    input.offers = scan.dhcp.offers.map((o) => o.address);
    input.pools = estimateDhcpPools(scan.dhcp.offers, subnet).map((p) => p.pool);
  }
  return input;
}
