/**
 * Host ↔ each container. Each container was pinged twice: from the shim's
 * address (the host reaches it), and from the host's own address on the
 * parent (the container's answer goes to that address, which is how a
 * container reaches its host). A dual-stack container is pinged the same two
 * ways over IPv6, the second from the host's own IPv6 address (reached
 * through the shim's proxy NDP). A container that answers neither, or only
 * one, is named.
 */
import { expectedShim } from '../expected.js';
import type { Check } from '../types.js';

export const reachCheck: Check = (f) => {
  const id = 'reach';
  const title = 'host ↔ containers';
  if (!expectedShim(f) && !f.status.shim.present) {
    return { id, title, verdict: 'skip', detail: 'the network has no host access (no shim): the host is not meant to reach its containers' };
  }
  const withAddress = f.status.containers.filter((c) => c.address);
  if (withAddress.length === 0) {
    return { id, title, verdict: 'skip', detail: f.status.containers.length ? 'no attached container has an IPv4 address' : 'no container is attached to the network' };
  }
  if (!f.reach) return { id, title, verdict: 'skip', detail: 'not probed' };
  const broken: string[] = [];
  const oneWay: string[] = [];
  const fine: string[] = [];
  const proxy6: string[] = [];
  for (const r of f.reach) {
    const v6 = r.address6 ? ` and ${r.address6}` : '';
    if (!r.fromShim) broken.push(`${r.name} ${r.address}`);
    else if (r.fromHost === false) oneWay.push(`${r.name} ${r.address} (it answers the shim but not the host's own address ${r.hostAddress})`);
    if (r.address6 && r.fromShim6 === false) broken.push(`${r.name} ${r.address6}`);
    else if (r.address6 && r.fromHost6 === false) {
      oneWay.push(`${r.name} ${r.address6} (it answers the shim but not the host's own IPv6 address ${r.hostAddress6})`);
      proxy6.push(r.hostAddress6!);
    }
    if (r.fromShim && r.fromHost !== false && (!r.address6 || (r.fromShim6 && r.fromHost6 !== false))) fine.push(`${r.name} ${r.address}${v6}`);
  }
  const data = { containers: f.reach };
  if (broken.length || oneWay.length) {
    const parts: string[] = [];
    if (broken.length) parts.push(`the host does not reach ${broken.join(', ')}`);
    if (oneWay.length) parts.push(`only one way: ${oneWay.join(', ')}`);
    const shimFine = f.status.shim.present && f.status.shim.up;
    return {
      id,
      title,
      verdict: 'fail',
      detail: parts.join('; '),
      fix: proxy6.length && broken.length === 0 && oneWay.length === proxy6.length
        ? `the shim must answer for ${proxy6[0]} by proxy NDP (see the shim check): ${f.record ? f.commands.up : f.commands.apply}`
        : shimFine
        ? `check the container's own network (docker exec CONTAINER ip addr; ip route) and any firewall on the host (iptables -S, nft list ruleset); a host with arp_ignore/arp_filter set does not answer ARP for its own address on the shim`
        : `repair the shim first (see the shim check): ${f.record ? f.commands.up : f.commands.apply}`,
      data,
    };
  }
  const how = f.reach.every((r) => r.fromHost !== undefined && (!r.address6 || r.fromHost6 !== undefined)) ? 'both ways' : 'from the shim (the other way could not be tried)';
  return { id, title, verdict: 'pass', detail: `${fine.join(', ')}: reached ${how}`, data };
};
