/**
 * Host ↔ each container. Each container was pinged twice: from the shim's
 * address (the host reaches it), and from the host's own address on the
 * parent (the container's answer goes to that address, which is how a
 * container reaches its host). A container that answers neither, or only
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
  for (const r of f.reach) {
    if (!r.fromShim) broken.push(`${r.name} ${r.address}`);
    else if (r.fromHost === false) oneWay.push(`${r.name} ${r.address} (it answers the shim but not the host's own address ${r.hostAddress})`);
    else fine.push(`${r.name} ${r.address}`);
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
      fix: shimFine
        ? `check the container's own network (docker exec CONTAINER ip addr; ip route) and any firewall on the host (iptables -S, nft list ruleset); a host with arp_ignore/arp_filter set does not answer ARP for its own address on the shim`
        : `repair the shim first (see the shim check): ${f.record ? f.commands.up : f.commands.apply}`,
      data,
    };
  }
  const how = f.reach.every((r) => r.fromHost !== undefined) ? 'both ways' : 'from the shim (the other way could not be tried)';
  return { id, title, verdict: 'pass', detail: `${fine.join(', ')}: reached ${how}`, data };
};
