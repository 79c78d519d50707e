/**
 * What a LAN scan saw (`macvlanctl scan`, and plan/apply before they choose
 * or check an ip-range). Addresses are kept as text so that the record is
 * the same in memory, in `--json` output and in the scan cache; the planner
 * parses them.
 */

export interface LiveHost {
  address: string;
  mac: string;
}

export interface DhcpServerSeen {
  /** Source address of the OFFERs (option 54 server identifier when present). */
  address: string;
  mac?: string;
}

export interface DhcpOfferSeen {
  /** yiaddr: the address offered. */
  address: string;
  /** The server identifier of the server that offered it. */
  server: string;
  /** The random client MAC the DISCOVER carried. */
  clientMac: string;
  leaseSeconds?: number;
  subnetMask?: string;
  routers?: string[];
  dns?: string[];
}

export interface DhcpPoolEstimate {
  /** Inclusive first and last address of the estimated pool. */
  first: string;
  last: string;
  /** How sure: high with many offers spread out, low with one or two. */
  confidence: 'high' | 'medium' | 'low';
  /** One line for people, e.g. "6 offers over .104–.149; the pool is probably .100–.155". */
  explanation: string;
}

export interface LanScan {
  parent: string;
  /** CIDR text of the scanned subnet. */
  subnet: string;
  /** ISO time the scan started. */
  scannedAt: string;
  durationMs: number;
  /** Undefined when the live sweep was skipped (--no-live). */
  live?: LiveHost[];
  /**
   * IPv6 subnet (CIDR text) whose neighbours were asked with an echo to
   * ff02::1; absent when IPv6 was not probed (an IPv4-only network, --no-live,
   * or a cache file written before the IPv6 probe existed).
   */
  subnet6?: string;
  /**
   * Neighbours that answered the all-nodes echo from an address inside
   * subnet6, with the MAC they resolved our probe address from. A host with
   * several addresses in subnet6 answers from one of them only. Undefined when
   * IPv6 was not probed or the probe failed (see ipv6Failure).
   */
  live6?: LiveHost[];
  /**
   * Neighbours that answered from a link-local address or from outside
   * subnet6: on the link with IPv6, but holding no address the planner must
   * keep clear of. Listed for people, never used for placing addresses.
   */
  others6?: LiveHost[];
  /** Why IPv6 neighbours were not collected although subnet6 was asked for (e.g. no ping program). */
  ipv6Failure?: string;
  /** Undefined when the DHCP probe was skipped (--no-dhcp). */
  dhcp?: {
    servers: DhcpServerSeen[];
    offers: DhcpOfferSeen[];
    pool?: DhcpPoolEstimate;
  };
}

/**
 * Which LAN a scan was taken on, as far as the host can tell without probing:
 * the subnet, the gateway's address and the gateway's MAC (from the scan's
 * own ARP answers, else from the host's neighbour table). Two LANs with the
 * same subnet and gateway address (a laptop between two 192.168.1.0/24
 * networks, a re-plugged switch) differ in the gateway's MAC.
 */
export interface LanIdentity {
  subnet: string;
  gateway: string;
  /** Lower case; undefined when neither the scan nor the host knew it: such a scan never vouches for a LAN. */
  gatewayMac?: string;
}

/**
 * Where the LAN facts the planner used came from, and how old they are (plan
 * and apply show it, and --json carries it).
 */
export interface LanScanSource {
  parent: string;
  subnet: string;
  /** `scan`: taken by this command; `cache`: read from the scan cache. */
  origin: 'scan' | 'cache';
  /** ISO time the scan started. */
  scannedAt: string;
  /** Whole seconds from the end of the scan to when this command read it (0 for a scan just taken). */
  ageSeconds: number;
  /** Why a cached scan was not used and the LAN was scanned again (for people: `--rescan`, too old, another LAN…). */
  rescanReason?: string;
  /**
   * Addresses a refusal named that were probed again, live, just before the
   * plan was made: those that answered stay, the others were dropped (and the
   * cache rewritten without them).
   */
  reprobed?: { at: string; answered: string[]; gone: string[] };
}

/** Milliseconds since the scan ended; NaN when its time cannot be read. */
export function scanAgeMs(scan: LanScan, now: Date): number {
  return now.getTime() - (Date.parse(scan.scannedAt) + (scan.durationMs ?? 0));
}

/** Whole seconds since the scan ended, never negative (a clock a little behind the scan's). */
export function scanAgeSeconds(scan: LanScan, now: Date): number {
  return Math.max(0, Math.round(scanAgeMs(scan, now) / 1000));
}
