/**
 * Somebody else on our addresses: a live host inside the ip-range (Docker
 * will hand its address to a container sooner or later, or already has) or
 * on the shim's address, that is not this host, its shim or one of its
 * containers. Named by address and MAC, so it can be found.
 *
 * Addresses Docker never hands out are nobody's business here: the gateway
 * and the aux-addresses (a printer declared with --aux-address printer=…
 * may well live inside the range).
 *
 * An address that is ours answers with our MAC; the same address answering
 * with another MAC is a squatter too (a duplicate). The scan keeps the first
 * answer per address, and our own interfaces answer first (no wire between),
 * so a duplicate of a live container or shim shows only sometimes; one of an
 * address nobody of ours holds always shows.
 *
 * A dual-stack network is checked in both families: the IPv6 neighbours that
 * answered the scan's all-nodes echo, against the IPv6 ip-range and the
 * shim's IPv6 address.
 */
import { type IpAddress, cidrContains, formatAddress, formatCidr, parseAddress } from '../../net/address.js';
import type { HostFacts } from '../../model/facts.js';
import { ownIdentities } from '../../plan/lan-view.js';
import { expectedNetwork, expectedShim, gateway } from '../expected.js';
import type { Check } from '../types.js';
import { lanOrSkip, range6Cidr, rangeCidr } from './lan-common.js';

export interface Squatter {
  address: string;
  mac: string;
  /** Inside the ip-range, on the shim's address, or both. */
  where: 'ip-range' | 'shim address';
  /** Who of ours holds that address, when one does (a duplicate). */
  duplicates?: string;
}

/** Our addresses (family:value) → the MACs and names that hold them. */
function owners(facts: HostFacts): Map<string, { macs: Set<string>; who: string }> {
  const out = new Map<string, { macs: Set<string>; who: string }>();
  const add = (a: IpAddress, mac: string | undefined, who: string) => {
    const key = `${a.family}:${a.value}`;
    const e = out.get(key) ?? { macs: new Set<string>(), who };
    if (mac) e.macs.add(mac.toLowerCase());
    out.set(key, e);
  };
  for (const i of facts.interfaces) for (const a of i.addresses) add(a.address, i.mac, `this host's ${i.name}`);
  if (facts.docker.available) {
    for (const n of facts.docker.networks) for (const c of n.containers) for (const a of [c.ipv4, c.ipv6]) if (a) add(a, c.mac, `container ${c.name}`);
  }
  return out;
}

export const squattersCheck: Check = (f) => {
  const id = 'lan-squatters';
  const range = rangeCidr(f);
  const range6 = range6Cidr(f);
  const shimAddress = expectedShim(f)?.address;
  const shimAddress6 = expectedShim(f)?.address6;
  const ranges = [range, range6].filter((r) => r !== undefined).map(formatCidr);
  const shims = [shimAddress, shimAddress6].filter((a) => a !== undefined);
  const title = `nobody else in ${ranges.length ? ranges.join(' or ') : 'the ip-range'}${shims.length ? ` or on ${shims.join(' or ')}` : ''}`;
  const got = lanOrSkip(f, id, title);
  if ('skip' in got) return got.skip;
  const { scan } = got.lan;
  if (!scan.live) return { id, title, verdict: 'skip', detail: 'the scan did not sweep for live hosts' };
  if (!range) return { id, title, verdict: 'skip', detail: 'the network’s subnet and ip-range are not known' };
  const shimSet = shims.map((a) => parseAddress(a));
  const ours = owners(f.host);
  // Reserved from Docker's allocation: the gateway and the aux-addresses other than the shim's own.
  // Both families; compared as canonical text (an IPv6 address may be written in several ways).
  const v6 = expectedNetwork(f)?.network.ipv6;
  const canonical = (a: string | undefined) => {
    try {
      return a ? formatAddress(parseAddress(a)) : undefined;
    } catch {
      return undefined;
    }
  };
  const reserved = new Set(
    [gateway(f), ...Object.values(f.status.auxAddresses), ...Object.values(expectedNetwork(f)?.network.auxAddresses ?? {}), v6?.gateway, ...Object.values(v6?.auxAddresses ?? {})].map(canonical),
  );
  for (const a of shims) reserved.delete(canonical(a));
  const ourMacs = ownIdentities(f.host).macs;
  const found: Squatter[] = [];
  for (const h of [...scan.live, ...(range6 ? (scan.live6 ?? []) : [])]) {
    let a: IpAddress;
    try {
      a = parseAddress(h.address);
    } catch {
      continue;
    }
    const onShim = shimSet.some((s) => s.family === a.family && s.value === a.value);
    const inRange = [range, range6].some((r) => r !== undefined && a.family === r.family && cidrContains(r, a));
    if (!onShim && !inRange) continue;
    if (!onShim && reserved.has(canonical(h.address))) continue;
    const mac = h.mac.toLowerCase();
    const owner = ours.get(`${a.family}:${a.value}`);
    if (owner ? owner.macs.has(mac) : ourMacs.has(mac)) continue;
    found.push({ address: h.address, mac, where: onShim ? 'shim address' : 'ip-range', ...(owner ? { duplicates: owner.who } : {}) });
  }
  const swept = `swept ${scan.subnet}${range6 && scan.live6 ? ` and asked the IPv6 neighbours in ${scan.subnet6}` : ''}`;
  if (found.length === 0) {
    return { id, title, verdict: 'pass', detail: `${swept}: no host other than this one and its containers answers there` };
  }
  const named = found.map((s) => `${s.address} (MAC ${s.mac}${s.where === 'shim address' ? ', on the shim’s address' : ''}${s.duplicates ? `, also held by ${s.duplicates}` : ''})`);
  return {
    id,
    title,
    verdict: 'fail',
    detail: `${swept}: ${named.join(', ')} ${found.length === 1 ? 'answers' : 'answer'} inside the network’s addresses and ${found.length === 1 ? 'is' : 'are'} not this host or one of its containers: Docker may give a container the same address`,
    fix: `find ${found.length === 1 ? 'that host' : 'those hosts'} by MAC (the router’s DHCP leases, the switch’s MAC table) and give ${found.length === 1 ? 'it' : 'them'} an address outside ${ranges.join(' and ')}; or move the network to a free range: macvlanctl destroy ${f.name}, then apply with --ip-range auto`,
    data: { squatters: found },
  };
};
