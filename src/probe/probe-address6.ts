/**
 * The CLI's half of the IPv6 neighbour probe (the worker's is neighbours6.ts):
 * the temporary address the probe speaks from, and what the answers mean.
 * Pure.
 */
import { MacvlanError } from '../model/errors.js';
import type { LiveHost } from '../model/lan.js';
import { type Cidr, cidrContains, formatValue, parseAddress } from '../net/address.js';

/**
 * The most random bits the probe address takes: a 64-bit interface
 * identifier, as SLAAC and privacy addresses have. With that many, a clash
 * with a neighbour's address is out of the question (2^-64 per host), which
 * is what makes skipping duplicate address detection (`nodad`, a second
 * saved) safe.
 */
export const PROBE_IID_BITS = 64;
/**
 * The longest IPv6 prefix the probe accepts: at least 16 random bits. Fewer
 * would make our nodad address a real risk of answering for a neighbour's.
 */
export const MAX_PROBE6_PREFIX = 112;

/**
 * A random address inside `subnet` for the probe, from `random` (at least 8
 * bytes, e.g. crypto.randomBytes(8)): the low min(64, host bits) bits are
 * random; the subnet-router anycast address (host part 0) and the top 128 of a
 * /64 (reserved anycast, RFC 2526) are never taken.
 */
export function probeAddress6(subnet: Cidr, random: Uint8Array): string {
  if (subnet.family !== 6) throw new RangeError('probeAddress6 takes an IPv6 subnet');
  if (subnet.prefix > MAX_PROBE6_PREFIX) throw new RangeError(`an IPv6 subnet longer than /${MAX_PROBE6_PREFIX} leaves too few addresses for a random probe address`);
  if (random.length < 8) throw new RangeError('probeAddress6 needs 8 random bytes');
  const bits = Math.min(PROBE_IID_BITS, 128 - subnet.prefix);
  let r = 0n;
  for (let i = 0; i < 8; i++) r = (r << 8n) | BigInt(random[i]!);
  const span = 1n << BigInt(bits);
  // Leave out host part 0 and the top 128 (reserved anycast): map r into [1, span - 129].
  const usable = span - 129n;
  const host = 1n + (r % usable);
  return formatValue(6, subnet.base + host);
}

function isLinkLocal6(text: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(text);
}

/** Sorted by address value (IPv6 text does not sort as text). */
function byValue(list: LiveHost[]): LiveHost[] {
  return list
    .map((h) => ({ h, v: parseAddress(h.address).value }))
    .sort((a, b) => (a.v < b.v ? -1 : a.v > b.v ? 1 : 0))
    .map((x) => x.h);
}

/**
 * The worker's answered neighbours split into those inside the subnet (what
 * the planner keeps clear of) and the rest (link-local or other prefixes:
 * people only). Our own probe address never counts; neither does anything
 * unparsable.
 */
export function classifyNeighbours6(answered: readonly LiveHost[], subnet: Cidr, probeAddress: string): { live6: LiveHost[]; others6: LiveHost[] } {
  const own = parseAddress(probeAddress).value;
  const live6: LiveHost[] = [];
  const others6: LiveHost[] = [];
  for (const h of answered) {
    let value: bigint;
    try {
      value = parseAddress(h.address).value;
    } catch {
      continue;
    }
    if (value === own) continue;
    const entry = { address: formatValue(6, value), mac: h.mac.toLowerCase() };
    if (cidrContains(subnet, value)) live6.push(entry);
    else others6.push(entry);
  }
  return { live6: byValue(live6), others6: byValue(others6) };
}

/** A usage error unless `text` is an IPv6 subnet the probe can speak from. */
export function checkProbeSubnet6(subnet: Cidr, text: string): void {
  if (subnet.prefix > MAX_PROBE6_PREFIX) {
    throw new MacvlanError(
      'USAGE',
      `--subnet ${text}: the IPv6 probe takes a random temporary address in the subnet, and a prefix longer than /${MAX_PROBE6_PREFIX} leaves too few addresses for that to be safe; give the LAN's IPv6 subnet (usually a /64)`,
      { subnet: text },
    );
  }
  if (isLinkLocal6(formatValue(6, subnet.base))) {
    throw new MacvlanError('USAGE', `--subnet ${text} is link-local; give the LAN's global (or unique local) IPv6 subnet`, { subnet: text });
  }
}
