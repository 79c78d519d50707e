/**
 * What a LAN scan means for one network's address family: the live hosts that
 * are somebody else's, the DHCP offers, and each DHCP server's estimated pool,
 * all inside the network's subnet. Pure.
 *
 * Our own containers and shims answer ARP and the IPv6 all-nodes echo like
 * anyone else (a scan from a macvlan child in bridge mode sees them), so they
 * are taken out: every
 * address and MAC of this host's interfaces, and every container Docker
 * reports, are ours.
 */
import type { AddressRange } from '../model/desired.js';
import type { HostFacts } from '../model/facts.js';
import type { LanScan } from '../model/lan.js';
import { type Cidr, type Family, type IpAddress, cidrContains, parseAddress } from '../net/address.js';
import { type Interval, subtract } from '../net/intervals.js';
import { type ServerPool, estimateDhcpPools } from './dhcp-pool.js';

export interface LanView {
  scan: LanScan;
  /** Live hosts in the subnet that are not this host, its shims or Docker's containers. */
  live: { address: IpAddress; mac: string }[];
  offers: { address: IpAddress; server: string }[];
  /** Estimated pools the planner keeps clear of (servers whose offers all lie in --avoid are left out: the user named that pool). */
  pools: ServerPool[];
  /** Servers whose pool the user named with --avoid (every offer of theirs lies inside it). */
  declaredBy: string[];
}

export function scanOf(facts: HostFacts, parent: string): LanScan | undefined {
  return facts.lan?.scans.find((s) => s.parent === parent);
}

export function skippedScanOf(facts: HostFacts, parent: string): { reason: string; fix?: string } | undefined {
  return facts.lan?.skipped.find((s) => s.parent === parent);
}

/** Addresses (as `family:value`) and lower-case MACs that belong to this host or its containers. */
export function ownIdentities(facts: HostFacts): { addresses: Set<string>; macs: Set<string> } {
  const addresses = new Set<string>();
  const macs = new Set<string>();
  for (const i of facts.interfaces) {
    if (i.mac) macs.add(i.mac.toLowerCase());
    for (const a of i.addresses) addresses.add(`${a.address.family}:${a.address.value}`);
  }
  if (facts.docker.available) {
    for (const n of facts.docker.networks) {
      for (const ct of n.containers) {
        if (ct.mac) macs.add(ct.mac.toLowerCase());
        for (const a of [ct.ipv4, ct.ipv6]) if (a) addresses.add(`${a.family}:${a.value}`);
      }
    }
  }
  return { addresses, macs };
}

function parsed(text: string): IpAddress | undefined {
  try {
    return parseAddress(text);
  } catch {
    return undefined;
  }
}

/**
 * Extra room the carve keeps between an ip-range and an estimated pool: one
 * mean spacing between the offers (at least one address). The estimate
 * already holds a uniformly used pool 4 times in 5; when it misses an end, it
 * misses by about one spacing or less (the unseen tail behaves like an
 * exponential with that mean), so one spacing more roughly halves the chance
 * that the pool reaches into a carved range (for six offers: 11% → 6% per side).
 */
export function poolMargin(p: ServerPool): bigint {
  const gap = BigInt(Math.ceil(p.detail.meanGap));
  return gap < 1n ? 1n : gap;
}

export function lanView(scan: LanScan, family: Family, subnet: Cidr, facts: HostFacts, avoid: readonly AddressRange[]): LanView {
  const own = ownIdentities(facts);
  const live: LanView['live'] = [];
  // IPv4 hosts answered ARP, IPv6 hosts the all-nodes echo; from here on they are the same thing.
  for (const h of (family === 4 ? scan.live : scan.live6) ?? []) {
    const a = parsed(h.address);
    if (!a || a.family !== family || !cidrContains(subnet, a)) continue;
    if (own.addresses.has(`${a.family}:${a.value}`) || own.macs.has(h.mac.toLowerCase())) continue;
    live.push({ address: a, mac: h.mac });
  }
  const offers: LanView['offers'] = [];
  for (const o of scan.dhcp?.offers ?? []) {
    const a = parsed(o.address);
    if (a && a.family === family && cidrContains(subnet, a)) offers.push({ address: a, server: o.server });
  }
  const declared: Interval[] = avoid.filter((r) => r.family === family).map((r) => r.interval);
  const pools: ServerPool[] = [];
  const declaredBy: string[] = [];
  for (const p of family === 4 ? estimateDhcpPools(scan.dhcp?.offers ?? [], subnet) : []) {
    const mine = offers.filter((o) => o.server === p.server).map((o) => ({ start: o.address.value, end: o.address.value }));
    if (declared.length > 0 && subtract(mine, declared).length === 0) declaredBy.push(p.server);
    else pools.push(p);
  }
  return { scan, live, offers, pools, declaredBy };
}

/** What a refusal names of one parent's scan: live hosts (either family) and whether DHCP offers or an estimated pool. */
export interface ScanFactsNamed {
  parent: string;
  addresses: string[];
  dhcp: boolean;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * The scan findings a planner error rests on, per parent (from the
 * machine-readable details plan-family.ts puts on RANGE_CONFLICT: lanParent,
 * liveHosts, dhcpOffers, dhcpPools), through aggregated errors too. Empty when
 * the error rests on nothing a scan saw.
 */
export function scanFactsNamed(e: unknown): ScanFactsNamed[] {
  const out = new Map<string, ScanFactsNamed>();
  const visit = (x: unknown): void => {
    if (typeof x !== 'object' || x === null) return;
    const err = x as { code?: unknown; details?: Record<string, unknown>; errors?: unknown[] };
    for (const sub of err.errors ?? []) visit(sub);
    const d = err.details ?? {};
    if (err.code !== 'RANGE_CONFLICT' || typeof d.lanParent !== 'string') return;
    const entry = out.get(d.lanParent) ?? { parent: d.lanParent, addresses: [], dhcp: false };
    for (const a of strings(d.liveHosts)) if (!entry.addresses.includes(a)) entry.addresses.push(a);
    if (strings(d.dhcpOffers).length > 0 || strings(d.dhcpPools).length > 0) entry.dhcp = true;
    out.set(d.lanParent, entry);
  };
  visit(e);
  return [...out.values()];
}

/** The scan without the live hosts (of either family) at `gone` (addresses compared by value). */
export function withoutHosts(scan: LanScan, gone: readonly string[]): LanScan {
  const values = new Set(gone.map((g) => parsed(g)).filter((a): a is IpAddress => a !== undefined).map((a) => `${a.family}:${a.value}`));
  const keep = (h: { address: string }) => {
    const a = parsed(h.address);
    return !a || !values.has(`${a.family}:${a.value}`);
  };
  const out: LanScan = { ...scan };
  if (scan.live) out.live = scan.live.filter(keep);
  if (scan.live6) out.live6 = scan.live6.filter(keep);
  return out;
}
