/**
 * Pure conversion of `ip -json -details addr show` and `ip -json route show`
 * output into InterfaceFact / RouteFact. Kept apart from the process call so it
 * can be tested on captured output.
 */
import { type InterfaceFact, type LinkKind, type ProxyNeighbourFact, REJECT_ROUTE_TYPES, type RejectRouteType, type RouteFact } from '../model/facts.js';
import { type Family, type InterfaceAddress, parseAddress, parseCidr } from '../net/address.js';

interface IpAddrInfo {
  family?: string;
  local?: string;
  prefixlen?: number;
  temporary?: boolean;
  deprecated?: boolean;
  tentative?: boolean;
  dadfailed?: boolean;
  preferred_life_time?: number;
}

interface IpLink {
  ifindex: number;
  ifname: string;
  flags?: string[];
  mtu?: number;
  operstate?: string;
  link_type?: string;
  address?: string;
  master?: string;
  link?: string;
  ifalias?: string;
  linkinfo?: { info_kind?: string; info_data?: { mode?: string }; info_slave_kind?: string };
  addr_info?: IpAddrInfo[];
}

interface IpRoute {
  dst?: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
  prefsrc?: string;
  type?: string;
}

const KINDS: Record<string, LinkKind> = {
  veth: 'veth',
  bridge: 'bridge',
  bond: 'bond',
  vlan: 'vlan',
  macvlan: 'macvlan',
  macvtap: 'macvlan',
  ipvlan: 'ipvlan',
  wireguard: 'wireguard',
  tun: 'tun',
  dummy: 'dummy',
};

function linkKind(l: IpLink): LinkKind {
  if (l.link_type === 'loopback') return 'loopback';
  const k = l.linkinfo?.info_kind;
  if (k === undefined) return l.link_type === 'ether' ? 'ethernet' : 'other';
  return KINDS[k] ?? 'other';
}

function parseAddrInfo(info: IpAddrInfo): InterfaceAddress | undefined {
  if (!info.local || info.prefixlen === undefined) return undefined;
  try {
    const address = parseAddress(info.local);
    const deprecated = info.deprecated === true || info.tentative === true || info.dadfailed === true || info.preferred_life_time === 0;
    return { address, prefix: info.prefixlen, ...(info.temporary ? { temporary: true } : {}), ...(deprecated ? { deprecated: true } : {}) };
  } catch {
    return undefined; // link-local with zone or something exotic: not relevant to planning
  }
}

/** `ip -json neigh show proxy`: the IPv6 entries (IPv4 proxy ARP entries are not ours to care about). */
export function parseProxyNeighbours(json: string): ProxyNeighbourFact[] {
  const out: ProxyNeighbourFact[] = [];
  for (const e of JSON.parse(json) as { dst?: string; dev?: string }[]) {
    if (!e.dst?.includes(':') || !e.dev) continue;
    try {
      out.push({ address: parseAddress(e.dst), device: e.dev });
    } catch {
      // not an address we could ever have put there
    }
  }
  return out;
}

/** `isWireless(name, index)` is asked only because `ip` cannot tell; it is injected to keep this pure. */
export function parseInterfaces(json: string, isWireless: (name: string, index: number) => boolean = () => false): InterfaceFact[] {
  const links = JSON.parse(json) as IpLink[];
  const byName = new Map(links.map((l) => [l.ifname, l]));
  return links.map((l) => {
    const flags = l.flags ?? [];
    const fact: InterfaceFact = {
      name: l.ifname,
      index: l.ifindex,
      kind: linkKind(l),
      up: flags.includes('UP'),
      operState: l.operstate ?? 'UNKNOWN',
      lowerUp: flags.includes('LOWER_UP'),
      mtu: l.mtu ?? 1500,
      wireless: isWireless(l.ifname, l.ifindex),
      addresses: (l.addr_info ?? []).map(parseAddrInfo).filter((a): a is InterfaceAddress => a !== undefined),
    };
    if (l.linkinfo?.info_kind) fact.infoKind = l.linkinfo.info_kind;
    if (l.address) fact.mac = l.address;
    if (l.master) {
      fact.master = l.master;
      const m = byName.get(l.master);
      const slaveKind = l.linkinfo?.info_slave_kind;
      fact.masterKind = m ? linkKind(m) : slaveKind === 'bond' ? 'bond' : slaveKind === 'bridge' ? 'bridge' : 'other';
    }
    if (l.link) fact.link = l.link;
    if (l.linkinfo?.info_data?.mode && (fact.kind === 'macvlan' || fact.kind === 'ipvlan')) fact.macvlanMode = l.linkinfo.info_data.mode;
    if (l.ifalias) fact.alias = l.ifalias;
    return fact;
  });
}

function parseDestination(dst: string, family: Family) {
  if (dst === 'default') return undefined;
  const withPrefix = dst.includes('/') ? dst : `${dst}/${family === 4 ? 32 : 128}`;
  return parseCidr(withPrefix);
}

export function parseRoutes(json: string, family: Family): RouteFact[] {
  const routes = JSON.parse(json) as IpRoute[];
  const out: RouteFact[] = [];
  for (const r of routes) {
    // Routes that reject traffic are kept (a range routed into a blackhole cannot reach its containers);
    // local, broadcast, multicast and anycast routes are not ours to reason about.
    const reject = (REJECT_ROUTE_TYPES as readonly string[]).includes(r.type ?? '') ? (r.type as RejectRouteType) : undefined;
    if (r.type && r.type !== 'unicast' && !reject) continue;
    try {
      const fact: RouteFact = { family };
      if (reject) fact.type = reject;
      const dest = parseDestination(r.dst ?? 'default', family);
      if (dest) fact.destination = dest;
      if (r.gateway) fact.gateway = parseAddress(r.gateway);
      if (r.dev) fact.device = r.dev;
      if (r.protocol) fact.protocol = r.protocol;
      if (r.scope) fact.scope = r.scope;
      if (r.metric !== undefined) fact.metric = r.metric;
      if (r.prefsrc) fact.source = parseAddress(r.prefsrc);
      out.push(fact);
    } catch {
      // A route we cannot parse (e.g. a multipath nexthop object) is skipped rather than failing the plan.
    }
  }
  return out;
}

const RTF_GATEWAY = 0x0002;
const RTF_REJECT = 0x0200;
const RTF_CACHE = 0x01000000;
const RTF_LOCAL = 0x80000000;

function hex128(h: string): bigint {
  return BigInt(`0x${h}`);
}

/**
 * IPv6 routes from /proc/net/ipv6_route (the reading process's namespace):
 * the same facts as `ip -6 -json route show table main` for planning, without
 * spawning a process. Columns: destination, prefix length, source, source
 * prefix length, next hop, metric, refcount, use, flags, device. Local and
 * cached routes are left out, as `ip route show table main` would; reject
 * routes are kept, marked `reject`.
 */
export function parseProcIpv6Routes(text: string): RouteFact[] {
  const out: RouteFact[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const flags = Number.parseInt(f[8]!, 16);
    if (flags & (RTF_LOCAL | RTF_CACHE)) continue;
    const prefix = Number.parseInt(f[1]!, 16);
    const dest = hex128(f[0]!);
    if (dest >> 120n === 0xffn) continue; // multicast (ff00::/8) lives in the local table
    const reject = (flags & RTF_REJECT) !== 0;
    // The kernel's own catch-all reject route (::/0 on lo) is not a route anyone made.
    if (reject && prefix === 0) continue;
    // Blackhole, unreachable, prohibit and throw all show as RTF_REJECT here.
    const fact: RouteFact = reject ? { family: 6, type: 'reject', metric: Number.parseInt(f[5]!, 16) } : { family: 6, device: f[9]!, metric: Number.parseInt(f[5]!, 16) };
    if (prefix !== 0 || dest !== 0n) fact.destination = { family: 6, base: dest, prefix };
    if (flags & RTF_GATEWAY) fact.gateway = { family: 6, value: hex128(f[4]!) };
    out.push(fact);
  }
  return out;
}
