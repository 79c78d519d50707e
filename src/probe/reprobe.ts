/**
 * The pure half of the re-probe: asking again, live, just the addresses a
 * refusal names, before the refusal stands (scan-worker.ts does the I/O,
 * src/cli/confirm-refusals.ts decides what to ask). Node built-ins only: the
 * worker is a bundle of its own.
 *
 * From the same throwaway namespace as the scan, the kernel is told to
 * resolve each address (`ip neigh replace ADDR dev IF use`): an ARP probe
 * with sender 0.0.0.0 for IPv4 (as in the sweep), a neighbour solicitation
 * from the probe's temporary address for IPv6. Unlike the sweep, the kernel
 * repeats an unanswered request (REPROBE_SOLICITS, REPROBE_RETRANS_MS apart):
 * dropping a host that is there because one frame was lost would let Docker
 * hand out its address, so a host gets three chances (about half a second)
 * before it counts as gone. Hosts that answer are known within milliseconds.
 */
import { answeredEntries } from './sweep.js';

/** Requests per address before the kernel marks it FAILED. */
export const REPROBE_SOLICITS = 3;
/** Between two requests for the same address. */
export const REPROBE_RETRANS_MS = 150;
/** The re-probe never takes longer than this, whatever the kernel does. */
export const REPROBE_DEADLINE_MS = 2_000;

/**
 * A random link-local address for the probe (fe80::/64, 64 random bits from
 * `random`, at least 8 bytes). Asked to resolve an address with no packet
 * waiting (`use`), the kernel sends a neighbour solicitation only from a
 * link-local address (ndisc_send_ns), and the probe has none by design; the
 * echo of the scan does not need one (its packet carries the global source).
 * So the re-probe adds this one, nodad (64 random bits: no clash to detect).
 */
export function probeLinkLocal(random: Uint8Array): string {
  if (random.length < 8) throw new RangeError('probeLinkLocal needs 8 random bytes');
  const g = (i: number) => ((random[i]! << 8) | random[i + 1]!).toString(16);
  return `fe80::${g(0)}:${g(2)}:${g(4)}:${g(6)}`;
}

/** The `ip -batch` lines that make the kernel resolve each address (either family). */
export function reprobeLines(addresses: readonly string[], ifname: string): string[] {
  return addresses.map((a) => `neigh replace ${a} dev ${ifname} use`);
}

/** Sysctl paths (under /proc/sys) and values that make the kernel ask each address REPROBE_SOLICITS times. */
export function reprobeSysctls(ifname: string, ipv6: boolean): [string, string][] {
  const families = ipv6 ? ['ipv4', 'ipv6'] : ['ipv4'];
  return families.flatMap((f) => [
    [`net/${f}/neigh/${ifname}/mcast_solicit`, String(REPROBE_SOLICITS)],
    [`net/${f}/neigh/${ifname}/retrans_time_ms`, String(REPROBE_RETRANS_MS)],
  ]);
}

interface Entry {
  dst?: string;
  state?: string[];
}

/**
 * Where the re-probe stands, from `ip -json neigh show dev IF` (both
 * families): the targets that answered (with their MACs), and those still
 * being asked (neither answered nor FAILED yet). Addresses compare in lower
 * case, as `ip` prints them.
 */
export function reprobeProgress(json: string, targets: readonly string[]): { answered: { address: string; mac: string }[]; pending: string[] } {
  const wanted = new Set(targets.map((t) => t.toLowerCase()));
  const answered = answeredEntries(json).filter((e) => wanted.has(e.dst.toLowerCase()));
  const done = new Set(answered.map((e) => e.dst.toLowerCase()));
  const trimmed = json.trim();
  for (const e of (trimmed ? JSON.parse(trimmed) : []) as Entry[]) {
    if (e.dst && (e.state ?? []).includes('FAILED')) done.add(e.dst.toLowerCase());
  }
  return {
    answered: answered.map((e) => ({ address: e.dst.toLowerCase(), mac: e.mac })),
    pending: [...wanted].filter((t) => !done.has(t)),
  };
}
