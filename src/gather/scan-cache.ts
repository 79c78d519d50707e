/**
 * The last LAN scan of each parent, kept under
 * <root>/var/lib/macvlanctl/scan/<parent>.json so that `plan` then `apply`
 * (or `scan` then `apply`, or `status`) do not probe the LAN twice within a
 * few minutes. Written by `scan` and by plan/apply when they scan; readable
 * without root (mode 0644: addresses and MACs on the LAN are no secret to
 * anyone on it).
 *
 * A scan stands only for the LAN it was taken on: the file records that LAN's
 * identity (subnet, gateway address, the gateway's MAC), and a reader passes
 * the identity it sees now (from the host's neighbour table: cheap, no probe).
 * A parent moved to another LAN with the same subnet within the cache's life
 * has another gateway MAC, and the cached scan is not used there.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type LanIdentity, type LanScan, scanAgeMs } from '../model/lan.js';
import { MacvlanError } from '../model/errors.js';
import { VERSION } from '../version.js';
import { writeFileAtomic } from '../system/atomic-write.js';
import { stateDir } from '../system/state-store.js';

/**
 * How long a scan stands for the LAN: long enough to read a plan and then
 * apply it, short enough that hosts coming and going (a laptop joining, a
 * DHCP lease handed out) are unlikely in between. A refusal never rests on
 * the cache alone (src/cli/confirm-refusals.ts re-probes what it names).
 */
export const SCAN_CACHE_MAX_AGE_MS = 5 * 60_000;

/** Version 2 added the LAN identity; a version 1 file cannot say which LAN it saw, so it is not read. */
interface CacheFile {
  schemaVersion: 2;
  macvlanctlVersion: string;
  lan: LanIdentity;
  scan: LanScan;
}

export interface CachedScan {
  scan: LanScan;
  lan: LanIdentity;
}

/** An interface name usable as a file name: what Linux allows (≤ 15 bytes, no '/', no white space), and not '.' or '..'. */
function safeName(parent: string): boolean {
  return /^[^/\s]{1,15}$/.test(parent) && parent !== '.' && parent !== '..';
}

export function scanCachePath(root: string, parent: string): string {
  if (!safeName(parent)) throw new MacvlanError('USAGE', `'${parent}' is not an interface name, so no scan of it can be cached`, { parent });
  return join(stateDir(root), 'scan', `${parent}.json`);
}

/** The cached scan of `parent` and the LAN it was taken on, however old; undefined when there is none or it cannot be read. */
export function readCachedScan(root: string, parent: string): CachedScan | undefined {
  if (!safeName(parent)) return undefined;
  try {
    const f = JSON.parse(readFileSync(scanCachePath(root, parent), 'utf8')) as CacheFile;
    const s = f?.scan;
    if (f.schemaVersion !== 2 || !s || s.parent !== parent || typeof s.subnet !== 'string' || typeof s.scannedAt !== 'string') return undefined;
    if (!f.lan || typeof f.lan.gateway !== 'string' || f.lan.subnet !== s.subnet) return undefined;
    return { scan: s, lan: f.lan };
  } catch {
    return undefined;
  }
}

/** The cached scan of `parent`, however old and whichever LAN it saw (for display: status). */
export function readScanCache(root: string, parent: string): LanScan | undefined {
  return readCachedScan(root, parent)?.scan;
}

/**
 * The identity of the LAN a scan saw: the gateway's MAC from the scan's own
 * ARP answer when it heard the gateway, else the host's neighbour entry
 * (`hostMac`), else unknown.
 */
export function lanIdentityOf(scan: LanScan, gateway: string, hostMac?: string): LanIdentity {
  const heard = scan.live?.find((h) => h.address === gateway)?.mac ?? hostMac;
  return { subnet: scan.subnet, gateway, ...(heard ? { gatewayMac: heard.toLowerCase() } : {}) };
}

export function writeScanCache(root: string, scan: LanScan, lan: LanIdentity): void {
  const f: CacheFile = { schemaVersion: 2, macvlanctlVersion: VERSION, lan, scan };
  writeFileAtomic(scanCachePath(root, scan.parent), `${JSON.stringify(f, null, 2)}\n`, 0o644);
}

/**
 * Why a cache taken on LAN `then` cannot speak for the LAN seen `now`, or
 * undefined when it is the same LAN. An unknown gateway MAC on either side
 * is not the same LAN: the cache must never vouch for a LAN it may not have
 * seen.
 */
export function otherLan(then: LanIdentity, now: LanIdentity): string | undefined {
  if (then.subnet !== now.subnet) return `it scanned ${then.subnet}, not ${now.subnet}`;
  if (then.gateway !== now.gateway) return `it was taken with gateway ${then.gateway}, and the gateway is now ${now.gateway}`;
  if (!now.gatewayMac) return `the host's neighbour table has no MAC for the gateway ${now.gateway}, so it cannot tell whether this is the LAN the scan was taken on`;
  if (!then.gatewayMac) return `it did not record the gateway's MAC, so it cannot tell whether it was taken on this LAN`;
  if (then.gatewayMac !== now.gatewayMac.toLowerCase()) {
    return `it was taken on another LAN: the gateway ${now.gateway} was ${then.gatewayMac} then and is ${now.gatewayMac.toLowerCase()} now`;
  }
  return undefined;
}

export interface FreshnessWants {
  maxAgeMs?: number;
  /** The subnet the caller needs scanned (exact CIDR text, as formatCidr writes it). */
  subnet?: string;
  /**
   * The IPv6 subnet whose neighbours the caller needs asked (exact CIDR text).
   * A scan of another IPv6 subnet, or from before the IPv6 probe existed (no
   * subnet6 in the file), is stale for it; one that has it serves IPv4-only
   * callers as well.
   */
  subnet6?: string;
  /** Both probes must have run (the planner needs live hosts and the DHCP pool), and the IPv6 one too when subnet6 is wanted. */
  complete?: boolean;
}

/** Why a scan does not serve (too old, another subnet, incomplete), or undefined when it does. */
export function staleness(scan: LanScan, now: Date, wants: FreshnessWants = {}): string | undefined {
  const age = scanAgeMs(scan, now);
  const max = wants.maxAgeMs ?? SCAN_CACHE_MAX_AGE_MS;
  // A scan from the future (a clock set back) is not trusted beyond a minute of skew.
  if (!(age >= -60_000)) return 'it is dated in the future (was the clock changed?)';
  if (!(age <= max)) return `it is ${Math.round(age / 1000)} s old (older than ${Math.round(max / 1000)} s)`;
  if (wants.subnet !== undefined && scan.subnet !== wants.subnet) return `it scanned ${scan.subnet}, not ${wants.subnet}`;
  if (wants.complete && (scan.live === undefined || scan.dhcp === undefined)) return 'it skipped the live-host sweep or the DHCP probe';
  // A scan whose IPv6 probe failed (no ping here) stands as it is: asking again would only fail again, seconds later.
  if (wants.subnet6 !== undefined && scan.subnet6 !== wants.subnet6) return `it did not ask the IPv6 neighbours of ${wants.subnet6}`;
  if (wants.subnet6 !== undefined && wants.complete && scan.live6 === undefined && !scan.ipv6Failure) return `it did not ask the IPv6 neighbours of ${wants.subnet6}`;
  return undefined;
}

export function isFresh(scan: LanScan, now: Date, wants: FreshnessWants = {}): boolean {
  return staleness(scan, now, wants) === undefined;
}

/**
 * The cached scan of `parent` when it is fresh for `wants` and (when `lan`
 * is given) was taken on that LAN; else why not (`stale`), or nothing when
 * there is no cache at all.
 */
export function cachedScanFor(root: string, parent: string, now: Date, wants: FreshnessWants & { lan?: LanIdentity } = {}): { scan: LanScan } | { stale: string } | undefined {
  const c = readCachedScan(root, parent);
  if (!c) return undefined;
  const why = staleness(c.scan, now, wants) ?? (wants.lan ? otherLan(c.lan, wants.lan) : undefined);
  return why ? { stale: why } : { scan: c.scan };
}

/** The cached scan of `parent` when fresh for `wants` (and, with `lan`, taken on that LAN). */
export function freshScan(root: string, parent: string, now: Date, wants: FreshnessWants & { lan?: LanIdentity } = {}): LanScan | undefined {
  const r = cachedScanFor(root, parent, now, wants);
  return r && 'scan' in r ? r.scan : undefined;
}
