/**
 * The last LAN scan of each parent, kept under
 * <root>/var/lib/macvlanctl/scan/<parent>.json so that `plan` then `apply`
 * (or `scan` then `apply`, or `status`) do not probe the LAN twice within a
 * few minutes. Written by `scan` and by plan/apply when they scan; readable
 * without root (mode 0644: addresses and MACs on the LAN are no secret to
 * anyone on it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LanScan } from '../model/lan.js';
import { MacvlanError } from '../model/errors.js';
import { VERSION } from '../version.js';
import { writeFileAtomic } from './atomic-write.js';
import { stateDir } from './state-store.js';

/**
 * How long a scan stands for the LAN: long enough to read a plan and then
 * apply it, short enough that hosts coming and going (a laptop joining, a
 * DHCP lease handed out) are unlikely in between.
 */
export const SCAN_CACHE_MAX_AGE_MS = 5 * 60_000;

interface CacheFile {
  schemaVersion: 1;
  macvlanctlVersion: string;
  scan: LanScan;
}

/** An interface name usable as a file name: what Linux allows (≤ 15 bytes, no '/', no white space), and not '.' or '..'. */
function safeName(parent: string): boolean {
  return /^[^/\s]{1,15}$/.test(parent) && parent !== '.' && parent !== '..';
}

export function scanCachePath(root: string, parent: string): string {
  if (!safeName(parent)) throw new MacvlanError('USAGE', `'${parent}' is not an interface name, so no scan of it can be cached`, { parent });
  return join(stateDir(root), 'scan', `${parent}.json`);
}

/** The cached scan of `parent`, however old; undefined when there is none or it cannot be read. */
export function readScanCache(root: string, parent: string): LanScan | undefined {
  if (!safeName(parent)) return undefined;
  try {
    const f = JSON.parse(readFileSync(scanCachePath(root, parent), 'utf8')) as CacheFile;
    const s = f?.scan;
    if (f.schemaVersion !== 1 || !s || s.parent !== parent || typeof s.subnet !== 'string' || typeof s.scannedAt !== 'string') return undefined;
    return s;
  } catch {
    return undefined;
  }
}

export function writeScanCache(root: string, scan: LanScan): void {
  const f: CacheFile = { schemaVersion: 1, macvlanctlVersion: VERSION, scan };
  writeFileAtomic(scanCachePath(root, scan.parent), `${JSON.stringify(f, null, 2)}\n`, 0o644);
}

/** Milliseconds since the scan ended; NaN when its time cannot be read. */
export function scanAgeMs(scan: LanScan, now: Date): number {
  return now.getTime() - (Date.parse(scan.scannedAt) + (scan.durationMs ?? 0));
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

export function isFresh(scan: LanScan, now: Date, wants: FreshnessWants = {}): boolean {
  const age = scanAgeMs(scan, now);
  // A scan from the future (a clock set back) is not trusted beyond a minute of skew.
  if (!(age >= -60_000 && age <= (wants.maxAgeMs ?? SCAN_CACHE_MAX_AGE_MS))) return false;
  if (wants.subnet !== undefined && scan.subnet !== wants.subnet) return false;
  if (wants.complete && (scan.live === undefined || scan.dhcp === undefined)) return false;
  // A scan whose IPv6 probe failed (no ping here) stands as it is: asking again would only fail again, seconds later.
  if (wants.subnet6 !== undefined && (scan.subnet6 !== wants.subnet6 || (wants.complete && scan.live6 === undefined && !scan.ipv6Failure))) return false;
  return true;
}

export function freshScan(root: string, parent: string, now: Date, wants: FreshnessWants = {}): LanScan | undefined {
  const s = readScanCache(root, parent);
  return s && isFresh(s, now, wants) ? s : undefined;
}
