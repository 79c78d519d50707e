/**
 * Strict parsing and formatting of IP addresses and CIDRs, IPv4 and IPv6 alike,
 * as BigInt values so that the same interval code serves both families.
 *
 * Strict on purpose: lenient parsers (ipaddr.js among them) accept "10.1" and
 * "0x0a.1.2.3", which a person almost never means. Every rejection says what
 * is wrong. The IPv6 parser and RFC 5952 formatter are our own, a few lines
 * each: every command parses the interfaces' addresses at start, and
 * ipaddr.js's IPv6 parser cost ~0.6 ms there building its expressions. The
 * unit tests hold both to ipaddr.js over random values.
 */
import { MacvlanError } from '../model/errors.js';

export type { Cidr, Family, InterfaceAddress, IpAddress } from '../model/address.js';
import type { Cidr, Family, InterfaceAddress, IpAddress } from '../model/address.js';

export const BITS: Record<Family, number> = { 4: 32, 6: 128 };

const IPV4_PART = /^(0|[1-9][0-9]{0,2})$/;

function invalid(text: string, why: string, label?: string): MacvlanError {
  const where = label ? `${label}: ` : '';
  return new MacvlanError('ADDRESS_INVALID', `${where}'${text}' is not a valid ${why}`, { value: text, ...(label ? { field: label } : {}) });
}

/** Which family a text looks like, without validating it. */
export function looksLikeFamily(text: string): Family {
  return text.includes(':') ? 6 : 4;
}

export function parseAddress(text: string, label?: string): IpAddress {
  const t = text.trim();
  if (t === '') throw invalid(t, 'IP address: it is empty', label);
  if (t.includes(':')) {
    if (t.includes('%')) throw invalid(t, 'IPv6 address: zone indexes (%eth0) are not allowed here', label);
    // An embedded IPv4 tail (::ffff:198.51.100.7) is checked with the strict IPv4 rules and
    // turned into two hex groups (ipaddr.js, for one, reads 010 there as octal and accepts 0x0a).
    const colon = t.lastIndexOf(':');
    let hex = t;
    const tail = t.slice(colon + 1);
    if (tail.includes('.')) {
      const v4 = ipv4Value(t, tail, 'IPv6 address, in its embedded IPv4 part', label);
      hex = `${t.slice(0, colon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
    }
    const value = ipv6HexValue(hex);
    if (value === undefined) throw invalid(t, 'IPv6 address', label);
    return { family: 6, value };
  }
  return { family: 4, value: ipv4Value(t, t, 'IPv4 address', label) };
}

/** Strict dotted-quad: four decimal numbers 0..255 without leading zeros. `text` is reported. */
function ipv4Value(text: string, dotted: string, what: string, label?: string): bigint {
  const parts = dotted.split('.');
  if (parts.length !== 4) {
    throw invalid(text, `${what}: it needs four dot-separated numbers, it has ${parts.length}`, label);
  }
  let value = 0n;
  for (const part of parts) {
    if (!IPV4_PART.test(part)) {
      throw invalid(text, `${what}: '${part}' is not a number from 0 to 255${/^0[0-9]/.test(part) ? ' (no leading zeros)' : ''}`, label);
    }
    const n = Number(part);
    if (n > 255) throw invalid(text, `${what}: ${n} is more than 255`, label);
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Eight hex groups, or fewer around one `::` standing for at least one zero group; undefined when malformed. */
function ipv6HexValue(hex: string): bigint | undefined {
  const halves = hex.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (halves.length === 1 ? head.length !== 8 : head.length + tail.length > 7) return undefined;
  let value = 0n;
  const add = (g: string) => {
    value = (value << 16n) | BigInt(Number.parseInt(g, 16));
  };
  for (const g of [...head, ...tail]) if (!HEX_GROUP.test(g)) return undefined;
  for (const g of head) add(g);
  for (let i = head.length + tail.length; i < 8; i++) add('0');
  for (const g of tail) add(g);
  return value;
}

/** RFC 5952: lower case, no leading zeros, the first longest run of two or more zero groups as `::`. */
function ipv6Text(value: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [best, bestLength] = [i, j - i];
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLength))}`;
}

function parsePrefix(text: string, prefixText: string, family: Family, label?: string): number {
  if (!/^[0-9]{1,3}$/.test(prefixText)) throw invalid(text, `CIDR: prefix length '/${prefixText}' is not a number`, label);
  const prefix = Number(prefixText);
  if (prefix > BITS[family]) {
    throw invalid(text, `CIDR: prefix length /${prefix} is longer than the ${BITS[family]} bits of an IPv${family} address`, label);
  }
  return prefix;
}

export function hostMask(family: Family, prefix: number): bigint {
  return (1n << BigInt(BITS[family] - prefix)) - 1n;
}

/** Parse `A.B.C.D/N` where host bits must be zero; the error suggests the network address. */
export function parseCidr(text: string, label?: string): Cidr {
  const t = text.trim();
  const slash = t.indexOf('/');
  if (slash < 0) throw invalid(t, 'CIDR: it needs a prefix length, as in 198.51.100.0/24', label);
  const addr = parseAddress(t.slice(0, slash), label);
  const prefix = parsePrefix(t, t.slice(slash + 1), addr.family, label);
  const mask = hostMask(addr.family, prefix);
  if ((addr.value & mask) !== 0n) {
    const suggestion = formatCidr({ family: addr.family, base: addr.value & ~mask, prefix });
    throw new MacvlanError(
      'ADDRESS_INVALID',
      `${label ? `${label}: ` : ''}'${t}' has host bits set; the network address of that subnet is ${suggestion}`,
      { value: t, suggestion, ...(label ? { field: label } : {}) },
    );
  }
  return { family: addr.family, base: addr.value, prefix };
}

/** Parse `A.B.C.D/N` as found on an interface: host bits are the point. */
export function parseInterfaceAddress(text: string, label?: string): InterfaceAddress {
  const t = text.trim();
  const slash = t.indexOf('/');
  if (slash < 0) throw invalid(t, 'address with prefix length', label);
  const address = parseAddress(t.slice(0, slash), label);
  return { address, prefix: parsePrefix(t, t.slice(slash + 1), address.family, label) };
}

export function networkOf(a: InterfaceAddress): Cidr {
  const mask = hostMask(a.address.family, a.prefix);
  return { family: a.address.family, base: a.address.value & ~mask, prefix: a.prefix };
}

export function formatAddress(a: IpAddress): string {
  return formatValue(a.family, a.value);
}

export function formatValue(family: Family, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => ((value >> s) & 255n).toString()).join('.');
  }
  return ipv6Text(value);
}

export function formatCidr(c: Cidr): string {
  return `${formatValue(c.family, c.base)}/${c.prefix}`;
}

export function cidrLast(c: Cidr): bigint {
  return c.base | hostMask(c.family, c.prefix);
}

export function cidrContains(c: Cidr, a: IpAddress | bigint): boolean {
  const v = typeof a === 'bigint' ? a : a.value;
  if (typeof a !== 'bigint' && a.family !== c.family) return false;
  return v >= c.base && v <= cidrLast(c);
}

export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(BITS[c.family] - c.prefix);
}

export function sameAddress(a: IpAddress, b: IpAddress): boolean {
  return a.family === b.family && a.value === b.value;
}

/** Whether `a` is an IPv6 link-local address (fe80::/10). */
export function isLinkLocal6(a: IpAddress): boolean {
  return a.family === 6 && a.value >> 118n === 0x3fan;
}
