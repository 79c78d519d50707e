/**
 * The shapes of addresses, networks and address intervals, as plain data.
 * The arithmetic on them lives in src/net/ (which re-exports these types).
 */
export type Family = 4 | 6;

export interface IpAddress {
  readonly family: Family;
  readonly value: bigint;
}

/** A network: `base` is the network address (no host bits set). */
export interface Cidr {
  readonly family: Family;
  readonly base: bigint;
  readonly prefix: number;
}

/** An address with the prefix length of its subnet, as on an interface (198.51.100.24/24). */
export interface InterfaceAddress {
  readonly address: IpAddress;
  readonly prefix: number;
  /** IPv6 privacy address (RFC 8981), as the kernel flags it. */
  readonly temporary?: boolean;
  /** Preferred lifetime over, or still tentative (DAD): not an address to hand to others. */
  readonly deprecated?: boolean;
}


/** An inclusive range of address values, of one family. */
export interface Interval {
  readonly start: bigint;
  readonly end: bigint; // inclusive
}
