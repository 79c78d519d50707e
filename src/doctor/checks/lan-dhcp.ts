/**
 * The DHCP servers on the LAN against the ip-range: an address a server
 * OFFERED inside the range (or the shim's address) is a conflict waiting for
 * its lease (fail); a range that only overlaps the pool as estimated from
 * the offers is likely one (warn: the estimate can over-reach). More than
 * one server answering is worth knowing too (a rogue server, or two routers).
 */
import { cidrContains, formatCidr, parseAddress } from '../../net/address.js';
import { cidrToInterval, overlaps } from '../../net/intervals.js';
import { estimateDhcpPools } from '../../plan/dhcp-pool.js';
import { expectedShim } from '../expected.js';
import type { Check } from '../types.js';
import { lanOrSkip, rangeCidr, subnetCidr } from './lan-common.js';

export const dhcpCheck: Check = (f) => {
  const id = 'lan-dhcp';
  const range = rangeCidr(f);
  const rangeText = range ? formatCidr(range) : 'the ip-range';
  const title = `DHCP keeps out of ${rangeText}`;
  const got = lanOrSkip(f, id, title);
  if ('skip' in got) return got.skip;
  const dhcp = got.lan.scan.dhcp;
  if (!dhcp) return { id, title, verdict: 'skip', detail: 'the scan did not probe for DHCP servers' };
  const sub = subnetCidr(f);
  if (!range || !sub) return { id, title, verdict: 'skip', detail: 'the network’s subnet and ip-range are not known' };
  if (dhcp.servers.length === 0) return { id, title, verdict: 'pass', detail: 'no DHCP server answered on the LAN' };

  const shim = expectedShim(f)?.address;
  const inside = dhcp.offers.filter((o) => {
    try {
      const a = parseAddress(o.address);
      return (a.family === range.family && cidrContains(range, a)) || o.address === shim;
    } catch {
      return false;
    }
  });
  const servers = dhcp.servers.map((s) => s.address);
  const pools = estimateDhcpPools(dhcp.offers, sub);
  const data = { servers, offers: dhcp.offers.map((o) => o.address), inside: inside.map((o) => ({ address: o.address, server: o.server })), pools: pools.map((p) => ({ server: p.server, ...p.pool })) };
  const poolText = pools.map((p) => `${p.server} pool ≈ ${p.pool.first}–${p.pool.last} (${p.pool.confidence})`).join('; ');
  if (inside.length > 0) {
    const by = [...new Set(inside.map((o) => o.server))];
    return {
      id,
      title,
      verdict: 'fail',
      detail: `DHCP server ${by.join(', ')} offered ${inside.map((o) => o.address).join(', ')} inside ${rangeText}${shim && inside.some((o) => o.address === shim) ? ` (or the shim’s ${shim})` : ''}: a DHCP client can get an address Docker gives a container${poolText ? `; ${poolText}` : ''}`,
      fix: `shrink the DHCP pool on ${by.join(', ')} so it ends below ${rangeText}, or move the network: macvlanctl destroy ${f.name}, then apply with --ip-range auto (it keeps clear of the pool)`,
      data,
    };
  }
  const rangeIv = cidrToInterval(range);
  const overlapping = pools.filter((p) => overlaps(p.detail.interval, rangeIv));
  const many = servers.length > 1 ? `; ${servers.length} DHCP servers answered (${servers.join(', ')}): is one of them a rogue?` : '';
  if (overlapping.length > 0) {
    return {
      id,
      title,
      verdict: 'warn',
      detail: `no offer fell inside ${rangeText}, but the estimated pool reaches into it: ${overlapping.map((p) => `${p.server}: ${p.pool.explanation}`).join('; ')}${many}`,
      fix: `look up the real pool on the DHCP server; if it overlaps ${rangeText}, shrink it, or move the network (macvlanctl destroy ${f.name}, then apply with --ip-range auto --avoid FIRST-LAST)`,
      data,
    };
  }
  if (many) {
    return { id, title, verdict: 'warn', detail: `${dhcp.offers.length} offer(s), none inside ${rangeText}${many.replace(/^;/, ',')}`, fix: 'make sure only the router serves DHCP on this LAN', data };
  }
  return { id, title, verdict: 'pass', detail: `${dhcp.offers.length} offer(s) from ${servers.join(', ')}, none inside ${rangeText}${poolText ? `; ${poolText}` : ''}`, data };
};
