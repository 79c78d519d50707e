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
  /** Undefined when the DHCP probe was skipped (--no-dhcp). */
  dhcp?: {
    servers: DhcpServerSeen[];
    offers: DhcpOfferSeen[];
    pool?: DhcpPoolEstimate;
  };
}
