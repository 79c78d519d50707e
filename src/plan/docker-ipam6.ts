/**
 * Which IPv6 addresses Docker's IPAM can hold, so the planner never picks one
 * it cannot. Pure.
 *
 * Found against dockerd 20.10 (libnetwork's default IPAM) in the lab, and kept
 * true by test/e2e/docker-ipam6.e2e.test.ts. The IPAM indexes a subnet's
 * addresses by the low 64 bits of their host part, in a bitmap of
 * min(2^(128-prefix), 2^64 - 1) bits, and reserves bit 0 (the subnet's own
 * address, which the planner keeps clear of anyway). So:
 *
 * - /65 and longer: every address but the subnet's own, the last one included;
 * - /64: not the last address (…:ffff:ffff:ffff:ffff): as an aux address it
 *   fails network creation ("bit does not belong to the sequence"), and a
 *   range that holds it gets no container address at all ("invalid bit
 *   range"; with no gateway given, network creation fails already);
 * - shorter than /64: only the first /64 of the subnet maps back to itself.
 *   An address elsewhere aliases onto the subnet's base plus its low 64 bits
 *   (asked for 2001:db8:0:5::7 in 2001:db8::/48, a container got
 *   2001:db8::7), and the last address of that first /64 is out as above.
 *
 * Newer engines may hold more; keeping to this holds on every engine.
 */
import type { Cidr, IpAddress } from '../net/address.js';
import { cidrLast, formatCidr, formatValue } from '../net/address.js';
import type { Interval } from '../net/intervals.js';
import { MacvlanError } from '../model/errors.js';

const FIRST_64_SIZE = 1n << 64n;

/** The addresses of an IPv6 subnet Docker's IPAM cannot hold (one interval from the last address it can, or none). */
export function dockerUnholdable6(subnet: Cidr): Interval | undefined {
  if (subnet.family !== 6 || subnet.prefix > 64) return undefined;
  return { start: subnet.base + FIRST_64_SIZE - 1n, end: cidrLast(subnet) };
}

/** Why Docker cannot hold this address of the subnet, in words for a refusal; undefined when it can. */
export function whyDockerCannotHold6(subnet: Cidr, value: bigint): string | undefined {
  const out = dockerUnholdable6(subnet);
  if (!out || value < out.start || value > out.end) return undefined;
  if (value === out.start) {
    const what = subnet.prefix === 64 ? `the last address of the /64 ${formatCidr(subnet)}` : `the last address of the first /64 of ${formatCidr(subnet)}`;
    return `${formatValue(6, value)} is ${what}, which Docker's IPAM cannot hold (it sizes a /64's address bitmap at 2^64-1 bits; dockerd 20.10 fails with "bit does not belong to the sequence")`;
  }
  const first = formatCidr({ family: 6, base: subnet.base, prefix: 64 });
  return `${formatValue(6, value)} lies outside the first /64 of ${formatCidr(subnet)} (${first}); Docker's IPAM keeps only the low 64 bits of an address, so it would hand out ${formatValue(6, subnet.base + (value & (FIRST_64_SIZE - 1n)))} instead`;
}

/** The first address of a range or block that Docker cannot hold, if any. */
export function firstUnholdable6(subnet: Cidr, iv: Interval): IpAddress | undefined {
  const out = dockerUnholdable6(subnet);
  if (!out || iv.end < out.start || iv.start > out.end) return undefined;
  return { family: 6, value: iv.start > out.start ? iv.start : out.start };
}

/**
 * Refuses (CONFIG_INVALID, exit 2) an explicit IPv6 ip-range, host address,
 * gateway or aux address that Docker would reject or move, before anything is
 * touched. `label` names the field (`--ip-range`, `file:3:5 networks.lan.ipv6.ipRange`).
 */
export function refuseUnholdable6(subnet: Cidr, field: { label: string; what: string; range?: Cidr; address?: IpAddress }): void {
  const iv = field.range ? { start: field.range.base, end: cidrLast(field.range) } : field.address ? { start: field.address.value, end: field.address.value } : undefined;
  if (!iv || iv.start < subnet.base || iv.end > cidrLast(subnet)) return; // outside the subnet: refused elsewhere, with that reason
  const bad = firstUnholdable6(subnet, iv);
  if (!bad) return;
  const shown = field.range ? `${field.what} ${formatCidr(field.range)}` : `${field.what} ${formatValue(6, iv.start)}`;
  const holds = `${field.range ? "holds an address Docker cannot use" : "is not usable"}: ${whyDockerCannotHold6(subnet, bad.value)}`;
  throw new MacvlanError('CONFIG_INVALID', `${field.label}: ${shown} ${holds}. Choose ${field.range ? 'a block' : 'an address'} below ${formatValue(6, dockerUnholdable6(subnet)!.start)}${field.range ? ', or --ip-range auto' : ''}`, {
    [field.range ? 'ipRange' : 'address']: field.range ? formatCidr(field.range) : formatValue(6, iv.start),
    subnet: formatCidr(subnet),
    unholdable: formatValue(6, bad.value),
  });
}
