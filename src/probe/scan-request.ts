/**
 * Checks of a scan request before anything runs (pure): the numbers, the
 * subnet, and the parent against the host's interfaces. Every refusal is a
 * usage error (exit 2) that says what to change.
 */
import type { InterfaceFact, RouteFact } from '../model/facts.js';
import { MacvlanError } from '../model/errors.js';
import { type Cidr, cidrContains, formatCidr, looksLikeFamily, networkOf, parseCidr } from '../net/address.js';
import { checkProbeSubnet6 } from './probe-address6.js';

/** The largest subnet one scan sweeps: a /16 is 65 534 probes, half a minute at 2000/s. */
export const MAX_SCAN_PREFIX = 16;
export const MAX_RATE = 100_000;
export const MAX_DHCP_WAIT_MS = 60_000;

export interface ScanNumbers {
  rate: number;
  dhcpWaitMs: number;
  live: boolean;
  dhcp: boolean;
}

export function checkScanNumbers(n: ScanNumbers): void {
  if (!n.live && !n.dhcp) throw new MacvlanError('USAGE', '--no-live and --no-dhcp together leave nothing to scan; drop one of them');
  if (!Number.isFinite(n.rate) || n.rate < 1 || n.rate > MAX_RATE) {
    throw new MacvlanError('USAGE', `--rate ${n.rate}: give the probes per second as a number from 1 to ${MAX_RATE} (default 2000)`, { rate: n.rate });
  }
  if (n.dhcp && (!Number.isFinite(n.dhcpWaitMs) || n.dhcpWaitMs < 100 || n.dhcpWaitMs > MAX_DHCP_WAIT_MS)) {
    throw new MacvlanError('USAGE', `--dhcp-wait: give seconds from 0.1 to ${MAX_DHCP_WAIT_MS / 1000} (default 3.5; dnsmasq answers a first DISCOVER only after about 3 s)`, {
      dhcpWaitMs: n.dhcpWaitMs,
    });
  }
}

/**
 * A number from a flag's text ("2000", "3.5", "-5"); a usage error naming the
 * flag and the text when it is not one. Negative numbers are numbers: the
 * caller's range check says what is allowed ("--rate -5: … from 1 to …").
 */
export function numberFlag(text: string | number | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback;
  if (typeof text === 'number') return text;
  if (!/^\s*-?[0-9]+(\.[0-9]+)?\s*$/.test(text)) throw new MacvlanError('USAGE', `${flag} '${text}' is not a number`, { flag, value: text });
  return Number(text);
}

/**
 * `--subnet` values (once per family, like plan's) → the IPv4 and the IPv6
 * one. Either may be missing: each family then comes from the parent.
 */
export function splitScanSubnets(values: readonly string[] | string | undefined): { subnet?: string; subnet6?: string } {
  const list = values === undefined ? [] : typeof values === 'string' ? [values] : values;
  const out: { subnet?: string; subnet6?: string } = {};
  for (const v of list) {
    const family = looksLikeFamily(v);
    const key = family === 4 ? 'subnet' : 'subnet6';
    if (out[key] !== undefined) {
      throw new MacvlanError('USAGE', `--subnet was given twice for IPv${family} ('${out[key]}', '${v}'); give it at most once per address family`, { subnet: list });
    }
    out[key] = v;
  }
  return out;
}

/** The IPv6 subnet whose neighbours are asked: one the probe can take a random address in. */
export function parseScanSubnet6(text: string): Cidr {
  const cidr = parseCidr(text, '--subnet');
  if (cidr.family !== 6) throw new MacvlanError('USAGE', `--subnet ${text} is not an IPv6 subnet`, { subnet: text });
  checkProbeSubnet6(cidr, text);
  return cidr;
}

/**
 * The parent's IPv6 subnet, if it has one: what `scan` probes by default. Its
 * first global (or unique-local) address's; for an address given as a /128
 * (DHCPv6 hands those out) the on-link prefix route on the parent that holds it.
 */
export function parentSubnet6(parent: InterfaceFact, routes: readonly RouteFact[] = []): Cidr | undefined {
  const own = parent.addresses.filter((a) => a.address.family === 6 && a.address.value >> 118n !== 0x3fan);
  const fromAddress = own.map(networkOf).find((c) => c.prefix <= 112);
  if (fromAddress) return fromAddress;
  return routes.find(
    (r) => r.family === 6 && r.device === parent.name && !r.gateway && r.destination && r.destination.prefix <= 112 && own.some((a) => cidrContains(r.destination!, a.address)),
  )?.destination;
}

/** The subnet to scan: IPv4, at most a /16. */
export function parseScanSubnet(text: string): Cidr {
  const cidr = parseCidr(text, '--subnet');
  if (cidr.family !== 4) throw new MacvlanError('USAGE', `--subnet ${text}: the scan sweeps IPv4 subnets (ARP and DHCPv4); give the parent's IPv4 subnet`, { subnet: text });
  if (cidr.prefix < MAX_SCAN_PREFIX) {
    throw new MacvlanError('USAGE', `--subnet ${text} is larger than a /${MAX_SCAN_PREFIX}; scan it a /${MAX_SCAN_PREFIX} at a time`, { subnet: text });
  }
  return cidr;
}

/** The parent and the subnet to scan on it, checked against the host. */
export interface ScanTarget {
  parent: InterfaceFact;
  subnet: Cidr;
  /** The IPv6 subnet whose neighbours are asked too; only when one was asked for. */
  subnet6?: Cidr;
  /** How the subnet was chosen, for the human output. */
  subnetFrom: 'flag' | 'parent';
  parentFrom: 'flag' | 'default-route';
}

export function resolveScanTarget(
  interfaces: readonly InterfaceFact[],
  routes: readonly RouteFact[],
  want: { parent?: string; subnet?: string; subnet6?: string },
): ScanTarget {
  const target = resolveScanTarget4(interfaces, routes, want);
  if (want.subnet6 !== undefined) target.subnet6 = resolveSubnet6(target.parent, want.subnet6);
  return target;
}

/** An IPv6 subnet "on the parent": overlapping one of its own IPv6 subnets, if it has any (as for IPv4). */
function resolveSubnet6(parent: InterfaceFact, text: string): Cidr {
  const subnet = parseScanSubnet6(text);
  const own = parent.addresses.filter((a) => a.address.family === 6 && a.address.value >> 118n !== 0x3fan).map(networkOf);
  const overlaps = (a: Cidr, b: Cidr) => cidrContains(a, b.base) || cidrContains(b, a.base);
  if (own.length > 0 && !own.some((n) => overlaps(n, subnet))) {
    throw new MacvlanError('USAGE', `--subnet ${formatCidr(subnet)} is not on ${parent.name} (its IPv6 subnets: ${own.map(formatCidr).join(', ')}); nothing was scanned`, {
      parent: parent.name,
      subnet: formatCidr(subnet),
    });
  }
  return subnet;
}

function resolveScanTarget4(interfaces: readonly InterfaceFact[], routes: readonly RouteFact[], want: { parent?: string; subnet?: string }): ScanTarget {
  let parentName = want.parent;
  let parentFrom: ScanTarget['parentFrom'] = 'flag';
  if (parentName === undefined) {
    const def = routes.find((r) => r.family === 4 && r.destination === undefined && r.device);
    if (!def?.device) throw new MacvlanError('USAGE', 'this host has no IPv4 default route to take the parent from; name the interface that faces the LAN with --parent IF');
    parentName = def.device;
    parentFrom = 'default-route';
  }
  const parent = interfaces.find((i) => i.name === parentName);
  if (!parent) {
    const names = interfaces.filter((i) => i.kind !== 'loopback').map((i) => i.name);
    throw new MacvlanError('PARENT_NOT_FOUND', `there is no interface '${parentName}' on this host${names.length ? ` (there are: ${names.join(', ')})` : ''}`, { parent: parentName });
  }
  if (parent.kind === 'loopback') throw new MacvlanError('PARENT_INVALID', `'${parent.name}' is the loopback interface; name the interface that faces the LAN`, { parent: parent.name });
  if (!parent.up || parent.operState === 'DOWN' || parent.operState === 'LOWERLAYERDOWN') {
    throw new MacvlanError('PARENT_INVALID', `'${parent.name}' is down (${parent.operState}); a scan through it would see nothing. Bring it up first`, { parent: parent.name, operState: parent.operState });
  }
  const own = parent.addresses.filter((a) => a.address.family === 4).map(networkOf);
  if (want.subnet === undefined) {
    const first = own[0];
    if (!first) throw new MacvlanError('USAGE', `'${parent.name}' has no IPv4 address to take the subnet from; give it with --subnet CIDR`, { parent: parent.name });
    if (first.prefix < MAX_SCAN_PREFIX) {
      throw new MacvlanError('USAGE', `${parent.name}'s subnet ${formatCidr(first)} is larger than a /${MAX_SCAN_PREFIX}; scan part of it with --subnet`, { parent: parent.name });
    }
    return { parent, subnet: first, subnetFrom: 'parent', parentFrom };
  }
  const subnet = parseScanSubnet(want.subnet);
  // "On the parent": overlapping a network of one of its IPv4 addresses. A
  // parent without IPv4 (a bare NIC carrying only macvlans) takes any subnet.
  // Aligned blocks either nest or are apart.
  const overlaps = (a: Cidr, b: Cidr) => cidrContains(a, b.base) || cidrContains(b, a.base);
  if (own.length > 0 && !own.some((n) => overlaps(n, subnet))) {
    throw new MacvlanError('USAGE', `--subnet ${formatCidr(subnet)} is not on ${parent.name} (its subnets: ${own.map(formatCidr).join(', ')}); nothing was scanned`, {
      parent: parent.name,
      subnet: formatCidr(subnet),
    });
  }
  return { parent, subnet, subnetFrom: 'flag', parentFrom };
}

/**
 * Why the scan cannot ask the IPv6 neighbours in `subnet6` through `parent`
 * (not one of its IPv6 subnets, longer than a /112, …); undefined when it can.
 * plan, apply and doctor then leave the IPv6 part out rather than lose the
 * IPv4 checks to it.
 */
export function ipv6NotAskable(interfaces: InterfaceFact[], routes: RouteFact[], want: { parent: string; subnet: string; subnet6: string }): string | undefined {
  try {
    resolveScanTarget(interfaces, routes, want);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
