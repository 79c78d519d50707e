/**
 * Address planning for one address family of one network: subnet, gateway,
 * ip-range (checked or carved) and the shim's host address. Pure.
 *
 * The rule that keeps the host on its LAN: the ip-range, which is what gets
 * routed through the shim, never holds the gateway, the host's own addresses,
 * or anything else that must stay reachable through the parent.
 */
import type { AddressRange, AuxAddress, DesiredFamily, StaticAddress } from '../model/desired.js';
import { MacvlanError } from '../model/errors.js';
import type { HostFacts, InterfaceFact, RouteFact } from '../model/facts.js';
import type { Warning } from '../model/plan.js';
import {
  type Cidr,
  type Family,
  type IpAddress,
  cidrContains,
  cidrLast,
  cidrSize,
  formatAddress,
  formatCidr,
  formatValue,
  isLinkLocal6,
  networkOf,
} from '../net/address.js';
import { type Interval, cidrToInterval, highestAlignedBlock, largestBlocks, overlaps, subtract } from '../net/intervals.js';
import { lanSubnetProblem } from '../net/lan-subnet.js';
import type { ProblemCollector } from '../model/collector.js';
import { dockerUnholdable6, refuseUnholdable6 } from './docker-ipam6.js';
import { type LanView, poolMargin } from './lan-view.js';

/** Something the ip-range must not hold, with the words to name it. */
export interface Reserved {
  interval: Interval;
  what: string;
  /** Docker ranges and live hosts are conflicts; the rest are configuration mistakes. */
  kind: 'gateway' | 'router' | 'host' | 'network' | 'broadcast' | 'avoid' | 'docker' | 'planned' | 'live' | 'dhcp-offer' | 'dhcp-pool' | 'route' | 'docker-ipam' | 'static';
  /** For an estimated pool: the narrower point estimate, which auto falls back to (with a warning) when `carve` leaves no room. */
  core?: Interval;
  /** What a carved range keeps clear of, when wider than `interval` (an estimated pool plus its margin). */
  carve?: Interval;
  /**
   * Seen by a LAN scan, so only as sure as the scan: an explicit range or host
   * address that holds it is refused (`refuse`) unless --force or already
   * applied, or only warned about (`warn`: a low-confidence pool estimate).
   */
  fromScan?: 'refuse' | 'warn';
  /**
   * Docker's IPAM never hands it out (the network and broadcast addresses), so
   * an explicit ip-range may hold it; carving still keeps clear of it, and the
   * shim may not take it.
   */
  dockerSkips?: true;
  /** Only kept clear of when carving (a foreign route: an explicit range is checked by the planner's route check, with host access). */
  carveOnly?: true;
}

export interface OtherRange {
  cidr: Cidr;
  what: string;
  kind: 'docker' | 'planned';
}

export interface FamilyInput {
  family: Family;
  desired: DesiredFamily;
  parent: InterfaceFact;
  facts: HostFacts;
  avoid: AddressRange[];
  aux: AuxAddress[];
  /** Compose services' fixed addresses on this network: a carved range and the shim keep clear of them. */
  statics?: StaticAddress[];
  /** Ranges of other Docker networks on the same parent, and of networks planned before this one. */
  otherRanges: OtherRange[];
  /** Origin label of a field (`--subnet`, `file:3:5 networks.lan.subnet`). */
  label: (key: string) => string;
  problems: ProblemCollector;
  /** The LAN scan of the parent, read for this family and subnet (computed once the subnet is known). */
  lan?: (subnet: Cidr) => LanView | undefined;
  /** --force: what the scan saw makes warnings, not refusals. */
  force?: boolean;
  /** The ip-range (and host address) this family has in Docker already: the scan does not move or refuse it. */
  applied?: { ipRange?: Cidr; hostAddress?: IpAddress };
  /** Where scan findings that do not refuse are reported. */
  warnings?: Warning[];
  /** The shim's name: routes through it are ours, every other route to a block is foreign. */
  shimName?: string;
}

export interface FamilyResult {
  subnet: Cidr;
  gateway: IpAddress;
  ipRange: Cidr;
  ipRangeSource: 'explicit' | 'auto';
  hostAddress?: IpAddress;
  /** Where the subnet/gateway came from when not given. */
  inferred: string[];
}

export const DEFAULT_AUTO_PREFIX: Record<Family, number> = { 4: 27, 6: 112 };

const fam = (f: Family) => (f === 4 ? 'IPv4' : 'IPv6');

function single(a: IpAddress): Interval {
  return { start: a.value, end: a.value };
}

function describeInterval(family: Family, iv: Interval): string {
  return iv.start === iv.end ? formatValue(family, iv.start) : `${formatValue(family, iv.start)}-${formatValue(family, iv.end)}`;
}

function resolveSubnet(inp: FamilyInput, inferred: string[]): Cidr {
  const { family, desired, parent } = inp;
  if (desired.subnet) return desired.subnet;
  const own = parent.addresses.find((a) => a.address.family === family && !isLinkLocal6(a.address));
  if (!own) {
    throw new MacvlanError(
      'CONFIG_INVALID',
      `${parent.name} has no ${fam(family)} address to take the subnet from; give it with ${inp.label('subnet')}`,
      { parent: parent.name },
    );
  }
  const subnet = networkOf(own);
  inferred.push(`${fam(family)} subnet ${formatCidr(subnet)} from ${parent.name}'s address ${formatAddress(own.address)}/${own.prefix}`);
  return subnet;
}

/** A subnet no LAN can have (multicast, loopback, link-local, a /1): refused whether given or taken from the parent. */
function checkLanSubnet(inp: FamilyInput, subnet: Cidr): void {
  const problem = lanSubnetProblem(subnet);
  if (!problem) return;
  const where = inp.desired.subnet ? inp.label('subnet') : `the ${fam(inp.family)} subnet of ${inp.parent.name}`;
  throw new MacvlanError('CONFIG_INVALID', `${where}: ${problem}`, { subnet: formatCidr(subnet) });
}

function resolveGateway(inp: FamilyInput, subnet: Cidr, inferred: string[]): IpAddress {
  const { family, desired, facts, parent } = inp;
  if (desired.gateway) {
    const text = formatAddress(desired.gateway);
    if (!cidrContains(subnet, desired.gateway)) {
      throw new MacvlanError(
        'CONFIG_INVALID',
        `${inp.label('gateway')}: gateway ${text} is outside the subnet ${formatCidr(subnet)}; the gateway must be the router's address on this LAN`,
        { gateway: text, subnet: formatCidr(subnet) },
      );
    }
    // IPv4 only: an IPv6 subnet has no broadcast address, and its first address is the routers' anycast address.
    const edge = family === 4 && subnet.prefix <= 30 ? (desired.gateway.value === subnet.base ? 'network' : desired.gateway.value === cidrLast(subnet) ? 'broadcast' : undefined) : undefined;
    if (edge) {
      throw new MacvlanError(
        'CONFIG_INVALID',
        `${inp.label('gateway')}: gateway ${text} is the ${edge} address of ${formatCidr(subnet)}, which no router can have; give the router's own address (ip route shows it after 'default via')`,
        { gateway: text, subnet: formatCidr(subnet) },
      );
    }
    return desired.gateway;
  }
  const defaults = facts.routes.filter((r) => r.family === family && r.destination === undefined && r.gateway);
  const onLan = defaults.filter((r) => cidrContains(subnet, r.gateway!));
  const best = onLan.find((r) => r.device === parent.name) ?? onLan[0];
  if (!best) {
    const linkLocal = defaults.find((r) => r.gateway && isLinkLocal6(r.gateway));
    throw new MacvlanError(
      'CONFIG_INVALID',
      `no ${fam(family)} default route with a gateway inside ${formatCidr(subnet)}${
        linkLocal ? ` (the router is known only by its link-local address ${formatAddress(linkLocal.gateway!)})` : ''
      }; give the router's address with ${inp.label('gateway')}`,
      { subnet: formatCidr(subnet) },
    );
  }
  inferred.push(`${fam(family)} gateway ${formatAddress(best.gateway!)} from the default route via ${best.device ?? '?'}`);
  return best.gateway!;
}

/** Everything the ip-range must keep clear of, named. */
export function reservedAddresses(inp: FamilyInput, subnet: Cidr, gateway: IpAddress): Reserved[] {
  const { family, facts } = inp;
  const out: Reserved[] = [{ interval: single(gateway), what: `the gateway ${formatAddress(gateway)}`, kind: 'gateway' }];
  out.push({ interval: { start: subnet.base, end: subnet.base }, what: `the subnet's network address ${formatValue(family, subnet.base)}`, kind: 'network', dockerSkips: true });
  if (family === 4 && subnet.prefix <= 30) {
    const last = cidrLast(subnet);
    out.push({ interval: { start: last, end: last }, what: `the broadcast address ${formatValue(family, last)}`, kind: 'broadcast', dockerSkips: true });
  }
  out.push(...routeReserved(inp, subnet, gateway));
  // Addresses Docker's IPAM cannot hold (src/plan/docker-ipam6.ts): auto never carves into them.
  const unholdable = dockerUnholdable6(subnet);
  if (unholdable) out.push({ interval: unholdable, what: `${describeInterval(family, unholdable)} (Docker's IPAM cannot hold them)`, kind: 'docker-ipam' });
  for (const iface of facts.interfaces) {
    for (const a of iface.addresses) {
      if (a.address.family === family && cidrContains(subnet, a.address)) {
        out.push({ interval: single(a.address), what: `this host's address ${formatAddress(a.address)} on ${iface.name}`, kind: 'host' });
      }
    }
  }
  for (const r of inp.avoid) {
    if (r.family !== family) continue;
    out.push({ interval: r.interval, what: `${describeInterval(family, r.interval)} (avoid ${r.text})`, kind: 'avoid' });
  }
  for (const o of inp.otherRanges) {
    if (o.cidr.family !== family) continue;
    out.push({ interval: cidrToInterval(o.cidr), what: o.what, kind: o.kind });
  }
  for (const s of inp.statics ?? []) {
    if (s.address.family !== family) continue;
    out.push({ interval: single(s.address), what: `service ${s.service}'s fixed address ${formatAddress(s.address)} (${s.origin})`, kind: 'static' });
  }
  const lan = inp.lan?.(subnet);
  if (lan) out.push(...scanReserved(family, lan));
  return out;
}

/**
 * What this host's routing table says: every router it sends through (a
 * declared gateway can differ from the default route's, and a range holding
 * the real router would route the host's LAN traffic through the shim), and
 * blocks of the subnet routed elsewhere (carving keeps clear of them).
 */
function routeReserved(inp: FamilyInput, subnet: Cidr, gateway: IpAddress): Reserved[] {
  const out: Reserved[] = [];
  const seen = new Set<bigint>([gateway.value]);
  for (const r of inp.facts.routes) {
    if (r.family !== inp.family) continue;
    if (r.gateway && cidrContains(subnet, r.gateway) && !seen.has(r.gateway.value)) {
      seen.add(r.gateway.value);
      const dest = r.destination ? formatCidr(r.destination) : 'default';
      out.push({ interval: single(r.gateway), what: `the router ${formatAddress(r.gateway)} (this host's ${dest} route goes through it)`, kind: 'router' });
    }
    const foreign = foreignRouteTo(r, subnet, inp.parent.name, inp.shimName);
    if (foreign) out.push({ interval: cidrToInterval(r.destination!), what: describeRoute(r), kind: 'route', carveOnly: true });
  }
  return out;
}

/**
 * A route that sends (part of) a block of the subnet somewhere other than our
 * shim: a more specific route than the LAN's own, that is not the parent's
 * own on-link route. Unreachable/blackhole/prohibit/throw routes count too.
 */
export function foreignRouteTo(r: RouteFact, subnet: Cidr, parent: string, shimName: string | undefined): boolean {
  if (!r.destination || r.destination.family !== subnet.family) return false;
  if (shimName !== undefined && r.device === shimName && !r.type) return false;
  if (r.destination.prefix <= subnet.prefix) return false; // the LAN's own route, or a wider one: the shim's route is more specific
  if (!overlaps(cidrToInterval(r.destination), cidrToInterval(subnet))) return false;
  const onLink = r.device === parent && !r.gateway && !r.type;
  return !onLink;
}

export function describeRoute(r: RouteFact): string {
  const dest = r.destination ? formatCidr(r.destination) : 'default';
  if (r.type === 'reject') return `the reject (blackhole, unreachable, prohibit or throw) route to ${dest}`;
  if (r.type) return `the ${r.type} route to ${dest}`;
  return `the route to ${dest} via ${r.device ?? '?'}${r.gateway ? ` (gateway ${formatAddress(r.gateway)})` : ''}`;
}

/** Live hosts, DHCP offers and estimated pools from a scan, as things to keep clear of. */
export function scanReserved(family: Family, lan: LanView): Reserved[] {
  const out: Reserved[] = [];
  const byAddress = <T extends { address: IpAddress }>(list: readonly T[]) => [...list].sort((x, y) => (x.address.value < y.address.value ? -1 : 1));
  for (const h of byAddress(lan.live)) {
    out.push({ interval: single(h.address), what: `live host ${formatAddress(h.address)} (${h.mac})`, kind: 'live', fromScan: 'refuse' });
  }
  for (const o of byAddress(lan.offers)) {
    out.push({ interval: single(o.address), what: `DHCP offer ${formatAddress(o.address)} (from ${o.server})`, kind: 'dhcp-offer', fromScan: 'refuse' });
  }
  for (const p of lan.pools) {
    const iv = p.detail.interval;
    const m = poolMargin(p);
    const seen = p.detail.observed;
    out.push({
      interval: iv,
      carve: { start: iv.start - m, end: iv.end + m },
      // The point estimate (one mean spacing past the outermost offers), for when the cautious one leaves no room.
      core: { start: seen.start - m, end: seen.end + m },
      what: `the DHCP pool of ${p.server} as estimated, ${describeInterval(family, iv)} (${p.pool.confidence} confidence: ${p.pool.explanation})`,
      kind: 'dhcp-pool',
      fromScan: p.pool.confidence === 'low' ? 'warn' : 'refuse',
    });
  }
  return out;
}

const SCAN_KINDS: ReadonlySet<Reserved['kind']> = new Set(['live', 'dhcp-offer', 'dhcp-pool']);

/**
 * Names a list of hits, with live hosts and offers grouped ("live hosts A (mac),
 * B (mac) and 3 more") so a range over a busy stretch stays one readable line.
 */
export function describeHits(hits: readonly Reserved[], limit = 6): string {
  const slots: (string | { kind: 'live' | 'dhcp-offer'; items: string[] })[] = [];
  for (const h of hits) {
    if (h.kind !== 'live' && h.kind !== 'dhcp-offer') {
      slots.push(h.what);
      continue;
    }
    const item = h.what.replace(/^(live host|DHCP offer) /, '');
    const group = slots.find((s): s is { kind: 'live' | 'dhcp-offer'; items: string[] } => typeof s !== 'string' && s.kind === h.kind);
    if (group) group.items.push(item);
    else slots.push({ kind: h.kind, items: [item] });
  }
  return slots
    .map((s) => {
      if (typeof s === 'string') return s;
      const one = s.items.length === 1;
      const noun = s.kind === 'live' ? (one ? 'live host' : 'live hosts') : one ? 'DHCP offer' : 'DHCP offers';
      const more = s.items.length > limit ? ` and ${s.items.length - limit} more` : '';
      return `${noun} ${s.items.slice(0, limit).join(', ')}${more}`;
    })
    .join(', ');
}

function scanWarning(inp: FamilyInput, code: string, message: string, fix?: string): void {
  inp.warnings?.push({ code, message, ...(fix ? { fix } : {}) });
}

function checkExplicitRange(inp: FamilyInput, subnet: Cidr, range: Cidr, reserved: Reserved[]): void {
  const label = inp.label('ipRange');
  if (range.prefix < subnet.prefix || !cidrContains(subnet, range.base) || !cidrContains(subnet, cidrLast(range))) {
    throw new MacvlanError('CONFIG_INVALID', `${label}: ip-range ${formatCidr(range)} is outside the subnet ${formatCidr(subnet)}; it must be a block inside it`, {
      ipRange: formatCidr(range),
      subnet: formatCidr(subnet),
    });
  }
  if (range.prefix === subnet.prefix) {
    throw new MacvlanError(
      'PLAN_UNSAFE',
      `${label}: ip-range ${formatCidr(range)} is the whole subnet; its route through the shim would cut this host off the LAN. Give a smaller block, or --ip-range auto`,
      { ipRange: formatCidr(range) },
    );
  }
  const iv = cidrToInterval(range);
  // Docker's IPAM skips the network and broadcast addresses itself (seen with dockerd 20.10: test/e2e/validate.e2e.test.ts).
  // A service's fixed address inside an explicit range is how Compose files are written: Docker takes it.
  const hits = reserved.filter((r) => !r.dockerSkips && !r.carveOnly && r.kind !== 'static' && overlaps(r.interval, iv));
  // What the scan saw refuses a new range, unless --force; a range Docker already has stays put.
  const applied = inp.applied?.ipRange !== undefined && inp.applied.ipRange.base === range.base && inp.applied.ipRange.prefix === range.prefix;
  const lenient = inp.force === true || applied;
  const refused = hits.filter((h) => !h.fromScan || (h.fromScan === 'refuse' && !lenient));
  const merely = hits.filter((h) => h.fromScan && !refused.includes(h));
  if (refused.length > 0) {
    const free = subtract([cidrToInterval(subnet)], reserved.map((r) => r.interval));
    const hint = largestBlocks(subnet.family, free, 3).map(formatCidr);
    const onlyScan = refused.every((h) => h.fromScan);
    throw new MacvlanError(
      'RANGE_CONFLICT',
      `${label}: ip-range ${formatCidr(range)} holds ${describeHits(refused)}; Docker would hand those addresses to containers. Choose a block clear of them${
        hint.length ? ` (free: ${hint.join(', ')})` : ''
      }, or use --ip-range auto${onlyScan ? ', or --force to take it anyway' : ''}`,
      { ipRange: formatCidr(range), conflicts: refused.map((h) => h.what), free: hint, ...scanDetails(inp, refused) },
    );
  }
  if (merely.length > 0) {
    scanWarning(
      inp,
      merely.some((h) => h.kind === 'live') ? 'RANGE_HOLDS_LIVE_HOSTS' : 'RANGE_IN_DHCP_POOL',
      `ip-range ${formatCidr(range)} holds ${describeHits(merely)}${applied ? ' (the range is already applied, so it stays)' : inp.force ? ' (taken anyway: --force)' : ''}`,
      merely.some((h) => h.kind === 'live')
        ? 'find out what these hosts are (macvlanctl doctor names them); a host with a fixed address there will clash with a container'
        : "check the router's DHCP pool and keep the range out of it (--avoid FIRST-LAST names the pool)",
    );
  }
}

/**
 * Machine-readable addresses of scan findings, for --json, and the parent
 * whose scan saw them (`lanParent`: src/cli/confirm-refusals.ts re-probes
 * them before a refusal of a cached scan stands).
 */
function scanDetails(inp: FamilyInput, hits: readonly Reserved[]): Record<string, unknown> {
  const family = inp.family;
  const out: Record<string, unknown> = {};
  if (hits.some((h) => h.fromScan)) out.lanParent = inp.parent.name;
  const addr = (h: Reserved) => formatValue(family, h.interval.start);
  const live = hits.filter((h) => h.kind === 'live').map(addr);
  const offers = hits.filter((h) => h.kind === 'dhcp-offer').map(addr);
  const pools = hits.filter((h) => h.kind === 'dhcp-pool').map((h) => h.what);
  if (live.length) out.liveHosts = live;
  if (offers.length) out.dhcpOffers = offers;
  if (pools.length) out.dhcpPools = pools;
  return out;
}

function carveRange(inp: FamilyInput, subnet: Cidr, prefix: number | undefined, reserved: Reserved[]): Cidr {
  const family = inp.family;
  const size = prefix ?? DEFAULT_AUTO_PREFIX[family];
  const label = inp.label('ipRange');
  if (size <= subnet.prefix) {
    throw new MacvlanError('CONFIG_INVALID', `${label}: auto/${size} is not smaller than the subnet ${formatCidr(subnet)}; choose a block size above /${subnet.prefix}`, {
      subnet: formatCidr(subnet),
    });
  }
  const free = subtract([cidrToInterval(subnet)], reserved.map((r) => r.carve ?? r.interval));
  const block = highestAlignedBlock(family, free, size);
  if (block) return block;
  // The cautious pool estimate (it holds the whole pool 4 times in 5) can fill
  // a /24 from a handful of offers. Rather than refuse, keep clear of the point
  // estimate, and say plainly that the range may touch the pool's far end.
  const pointReserved = reserved.map((r) => r.core ?? r.carve ?? r.interval);
  const narrowed = reserved.some((r) => r.core) ? highestAlignedBlock(family, subtract([cidrToInterval(subnet)], pointReserved), size) : undefined;
  if (narrowed) {
    const pools = reserved.filter((r) => r.core).map((r) => r.what.replace(/^the DHCP pool of /, ''));
    inp.warnings?.push({
      code: 'DHCP_POOL_NARROWED',
      message: `no free /${size} lies outside the cautious estimate of the DHCP pool (${pools.join('; ')}), so ${formatCidr(narrowed)} was carved next to the offers actually seen; it may overlap the pool's far end`,
      fix: "name the router's real DHCP pool with --avoid FIRST-LAST (its DHCP settings page shows it), or run macvlanctl scan to see the offers",
    });
    return narrowed;
  }
  const largest = largestBlocks(family, free, 3).map(formatCidr);
  const avoidHits = reserved.filter((r) => r.kind === 'avoid' || r.kind === 'live');
  const pools = reserved.filter((r) => r.kind === 'dhcp-pool');
  throw new MacvlanError(
    'NO_FREE_RANGE',
    `${label}: no free /${size} block is left in ${formatCidr(subnet)}. ${
      largest.length ? `The largest free blocks are ${largest.join(', ')}` : 'Nothing is free'
    }. To make room: ${[
      largest[0] ? `ask for a smaller block (--ip-range auto/${largest[0].split('/')[1]})` : undefined,
      pools.length ? `name the router's real DHCP pool with --avoid FIRST-LAST (the scan could only estimate it: ${pools.map((p) => p.what.replace(/^the DHCP pool of /, '')).join('; ')})` : undefined,
      avoidHits.length || pools.length ? "shrink the router's DHCP pool or the avoided ranges" : undefined,
      'or use a larger subnet',
    ]
      .filter(Boolean)
      .join(', ')}`,
    { size, largestFree: largest },
  );
}

function resolveHostAddress(inp: FamilyInput, subnet: Cidr, gateway: IpAddress, range: Cidr, reserved: Reserved[]): IpAddress | undefined {
  const want = inp.desired.hostAddress ?? 'auto';
  const label = inp.label('hostAddress');
  if (want === 'auto') {
    // The highest address of the ip-range that Docker could hand out (not the
    // subnet's broadcast address): Docker allocates from the bottom, and the
    // aux-address reservation keeps it out of Docker's hands. Not a service's
    // fixed address: Docker would then refuse that container.
    // A one-address range (ip_range: X/32, a common way to give one container
    // its address) has no room for the shim besides that container.
    const top = cidrLast(range);
    const broadcast = inp.family === 4 && subnet.prefix <= 30 && top === cidrLast(subnet) ? top : undefined;
    // Nor an aux address: Docker would refuse to reserve it twice (Address already in use) and the network would not be made.
    const fixed = new Set([...(inp.statics ?? []).map((s) => s.address), ...inp.aux.map((a) => a.address)].filter((a) => a.family === inp.family).map((a) => a.value));
    // (A range with no room left beside the shim is refused by checkRoomForContainers, with that reason.)
    for (let v = top; v >= range.base; v--) if (!fixed.has(v) && v !== broadcast) return { family: inp.family, value: v };
    const why = top === range.base ? 'holds a single address, which is the container’s' : "holds only services' fixed addresses and aux addresses";
    throw new MacvlanError(
      'RANGE_CONFLICT',
      `${inp.label('ipRange')}: the ip-range ${formatCidr(range)} ${why}, so none is left for the host's shim; give the shim an address outside it that nobody uses (host_access: {address: …}, in x-macvlanctl for a Compose file), or widen the ip-range`,
      { ipRange: formatCidr(range) },
    );
  }
  const text = formatAddress(want);
  if (!cidrContains(subnet, want)) {
    throw new MacvlanError('CONFIG_INVALID', `${label}: host address ${text} is outside the subnet ${formatCidr(subnet)}`, { hostAddress: text });
  }
  if (want.value === gateway.value) {
    throw new MacvlanError('CONFIG_INVALID', `${label}: host address ${text} is the gateway's address; choose a free address, or leave it out (auto)`, { hostAddress: text });
  }
  const hits = reserved.filter(
    (r) => r.kind !== 'gateway' && r.kind !== 'docker' && r.kind !== 'planned' && !r.carveOnly && want.value >= r.interval.start && want.value <= r.interval.end,
  );
  const hard = hits.find((r) => !r.fromScan);
  if (hard) {
    throw new MacvlanError('RANGE_CONFLICT', `${label}: host address ${text} is ${hard.what}; the shim needs an address nobody else uses`, {
      hostAddress: text,
      conflict: hard.what,
    });
  }
  const applied = inp.applied?.hostAddress?.value === want.value;
  const lenient = inp.force === true || applied;
  const seen = hits.filter((r) => SCAN_KINDS.has(r.kind));
  const refusing = seen.filter((r) => r.fromScan === 'refuse' && !lenient);
  if (refusing.length > 0) {
    throw new MacvlanError(
      'RANGE_CONFLICT',
      `${label}: host address ${text} is ${refusing.map((r) => (r.kind === 'dhcp-pool' ? `inside ${r.what}` : r.what)).join(', and ')}; the shim needs an address nobody else uses. Choose another, leave it out (auto: the top of the ip-range), or --force to take it anyway`,
      { hostAddress: text, conflicts: refusing.map((r) => r.what), ...scanDetails(inp, refusing) },
    );
  }
  if (seen.length > 0) {
    scanWarning(
      inp,
      'HOST_ADDRESS_SEEN',
      `host address ${text} is ${seen.map((r) => (r.kind === 'dhcp-pool' ? `inside ${r.what}` : r.what)).join(', and ')}${applied ? ' (already applied, so it stays)' : inp.force ? ' (taken anyway: --force)' : ''}`,
      'give the shim an address nobody else uses (--host-address)',
    );
  }
  const aux = inp.aux.find((a) => a.address.family === inp.family && a.address.value === want.value);
  if (aux) {
    throw new MacvlanError('RANGE_CONFLICT', `${label}: host address ${text} is already aux address '${aux.name}'`, { hostAddress: text });
  }
  return want;
}

function checkAux(inp: FamilyInput, subnet: Cidr, gateway: IpAddress): void {
  const seen = new Map<bigint, string>();
  for (const a of inp.aux) {
    if (a.address.family !== inp.family) continue;
    const label = inp.label(`auxAddresses.${a.name}`);
    const text = formatAddress(a.address);
    inp.problems.run(() => {
      if (!cidrContains(subnet, a.address)) {
        throw new MacvlanError('CONFIG_INVALID', `${label}: aux address ${a.name}=${text} is outside the subnet ${formatCidr(subnet)}`, { aux: a.name });
      }
      if (a.address.value === gateway.value) {
        throw new MacvlanError('CONFIG_INVALID', `${label}: aux address ${a.name}=${text} is the gateway; Docker reserves the gateway already, so leave it out`, {
          aux: a.name,
        });
      }
      const other = seen.get(a.address.value);
      if (other) {
        throw new MacvlanError('CONFIG_INVALID', `${label}: aux address ${text} is given twice (as '${other}' and '${a.name}')`, { aux: a.name });
      }
      seen.set(a.address.value, a.name);
    });
  }
}

/**
 * The ip-range must keep at least one address for a container once Docker's
 * own reservations (network, broadcast, gateway, aux addresses and the shim's)
 * are taken out: a /32 or /128 whose only address is the shim's gives Docker
 * nothing to hand out.
 */
function checkRoomForContainers(inp: FamilyInput, subnet: Cidr, gateway: IpAddress, range: Cidr, host: IpAddress): void {
  const taken = new Set<bigint>([subnet.base, gateway.value, host.value]);
  if (inp.family === 4 && subnet.prefix <= 30) taken.add(cidrLast(subnet));
  for (const a of inp.aux) if (a.address.family === inp.family) taken.add(a.address.value);
  const size = cidrSize(range);
  let inRange = 0n;
  for (const v of taken) if (cidrContains(range, v)) inRange++;
  if (size - inRange > 0n) return;
  const label = inp.label('ipRange');
  throw new MacvlanError(
    'CONFIG_INVALID',
    `${label}: ip-range ${formatCidr(range)} leaves no address for a container: its ${size === 1n ? 'only address is' : `${size} addresses are all`} reserved (the shim's ${formatAddress(host)}, the gateway, aux addresses, or the subnet's network/broadcast address). Give a larger block, for example /${Math.max(subnet.prefix + 1, range.prefix - 3)}, or the shim an unused address outside it (--host-address, or host_access: {address: …} in x-macvlanctl for a Compose file)`,
    { ipRange: formatCidr(range) },
  );
}

/** Explicit IPv6 values Docker would reject or move are refused up front, each with its reason. */
function refuseWhatDockerCannotHold(inp: FamilyInput, subnet: Cidr, gateway: IpAddress): void {
  const { desired, problems } = inp;
  if (desired.ipRange?.kind === 'explicit') {
    const range = desired.ipRange.cidr;
    problems.run(() => refuseUnholdable6(subnet, { label: inp.label('ipRange'), what: 'ip-range', range }));
  }
  const host = desired.hostAddress;
  if (host && host !== 'auto') problems.run(() => refuseUnholdable6(subnet, { label: inp.label('hostAddress'), what: 'host address', address: host }));
  problems.run(() => refuseUnholdable6(subnet, { label: inp.label('gateway'), what: 'gateway', address: gateway }));
  for (const a of inp.aux) {
    if (a.address.family === 6) problems.run(() => refuseUnholdable6(subnet, { label: inp.label(`auxAddresses.${a.name}`), what: `aux address ${a.name}=`, address: a.address }));
  }
}

export function planFamily(inp: FamilyInput): FamilyResult | undefined {
  const inferred: string[] = [];
  const { problems } = inp;
  const subnet = problems.run(() => {
    const s = resolveSubnet(inp, inferred);
    checkLanSubnet(inp, s);
    return s;
  });
  if (!subnet) return undefined;
  const gateway = problems.run(() => resolveGateway(inp, subnet, inferred));
  if (!gateway) return undefined;
  checkAux(inp, subnet, gateway);
  const before = problems.errors.length;
  if (inp.family === 6) refuseWhatDockerCannotHold(inp, subnet, gateway);
  if (problems.errors.length > before) return undefined; // said once, with its own reason
  const reserved = reservedAddresses(inp, subnet, gateway);
  const spec = inp.desired.ipRange ?? { kind: 'auto' as const };
  const ipRange = problems.run(() => {
    if (spec.kind === 'explicit') {
      checkExplicitRange(inp, subnet, spec.cidr, reserved);
      return spec.cidr;
    }
    // An explicit host address must stay out of a carved range's way only if it is not inside it anyway.
    return carveRange(inp, subnet, spec.prefix, reserved);
  });
  if (!ipRange) return undefined;
  // Resolved and reserved in Docker even with host access off: Docker cannot
  // change a network's aux addresses later, so turning host access on must
  // not require re-creating a network that has containers attached.
  const hostAddress = problems.run(() => {
    const host = resolveHostAddress(inp, subnet, gateway, ipRange, reserved);
    if (host) checkRoomForContainers(inp, subnet, gateway, ipRange, host);
    return host;
  });
  if (!hostAddress) return undefined;
  const result: FamilyResult = { subnet, gateway, ipRange, ipRangeSource: spec.kind, inferred };
  if (hostAddress) result.hostAddress = hostAddress;
  return result;
}

