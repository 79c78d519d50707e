/**
 * What the CLI (lan-scan.ts) and the scan worker (scan-worker.ts) say to each
 * other: one JSON object per line, on the worker's stdin and stdout.
 *
 *   worker → cli   ready                      namespace made, its sysctls set
 *   cli → worker   start                      the probe interface is there: go
 *   worker → cli   progress* then result | error
 */
import type { DhcpOfferSeen, LiveHost } from '../model/lan.js';

export interface WorkerStart {
  t: 'start';
  /** The macvlan the CLI created in the worker's namespace. */
  ifname: string;
  /** IPv4 subnet as (network address as a number, prefix). */
  base: number;
  prefix: number;
  live: boolean;
  dhcp: boolean;
  /** Probes (ARP requests) per second. */
  rate: number;
  /** How long after a block's last probe its answers are read. */
  answerWindowMs: number;
  /** At most this many of our entries in the (shared) neighbour table. */
  maxInFlight: number;
  /** Addresses per block (a power of two): one flush each. */
  blockSize: number;
  dhcpWaitMs: number;
  dhcpClients: number;
  dhcpSpacingMs: number;
  /** Ask the IPv6 neighbours too (next to the sweep): from this temporary address, for this long. */
  ipv6?: {
    /** The probe's address (random, inside the subnet) and the subnet's prefix length. */
    address: string;
    prefix: number;
    /** How long after the echo the neighbour table is read. */
    windowMs: number;
  };
  /**
   * Instead of the sweep, the echo and the DHCP probe: ask just these
   * addresses again (reprobe.ts). IPv6 ones need `ipv6` (its address is the
   * one the solicitations come from; no echo is sent).
   */
  reprobe?: string[];
}

export interface WorkerReady {
  t: 'ready';
}

export interface WorkerProgress {
  t: 'progress';
  sent: number;
  total: number;
  found: number;
}

export interface WorkerResult {
  t: 'result';
  live?: LiveHost[];
  dhcp?: { offers: DhcpOfferSeen[]; discovers: number };
  /** Every IPv6 neighbour that answered (the CLI sorts out which are in the subnet), or why none could be asked. */
  ipv6?: { answered: LiveHost[]; ping: string } | { failure: string };
  /** With `reprobe`: the addresses that answered, with their MACs (either family). */
  reprobed?: LiveHost[];
  /** Milliseconds each part took. */
  timings: Record<string, number>;
}

export interface WorkerError {
  t: 'error';
  message: string;
}

export type WorkerMessage = WorkerReady | WorkerProgress | WorkerResult | WorkerError;
