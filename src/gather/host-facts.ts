/**
 * Reads the host's network facts: interfaces, addresses and routes through
 * `ip -json` (two processes, run in parallel), wireless-ness from /sys, and
 * the host identity used to derive stable shim MAC addresses.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { InterfaceFact, ProxyNeighbourFact, RouteFact } from '../model/facts.js';
import { run } from '../system/exec.js';
import { parseInterfaces, parseProcIpv6Routes, parseProxyNeighbours, parseRoutes } from './ip-facts.js';

export interface IpFacts {
  interfaces: InterfaceFact[];
  routes: RouteFact[];
  proxies6: ProxyNeighbourFact[];
}

/**
 * /sys/class/net shows the namespace sysfs was mounted in, which is not always
 * ours (nsenter keeps the old mount): trust it only when the ifindex matches.
 */
function isWireless(name: string, index: number): boolean {
  try {
    const dir = `/sys/class/net/${name}`;
    if (Number(readFileSync(join(dir, 'ifindex'), 'utf8')) !== index) return false;
    return existsSync(join(dir, 'wireless')) || existsSync(join(dir, 'phy80211'));
  } catch {
    return false;
  }
}

/** One per-link sysctl (/proc/sys/net/<family>/conf/<link>/<key>), trimmed; undefined when unreadable (no such link any more, no IPv6 on it). */
function linkSysctl(family: 'ipv4' | 'ipv6', link: string, key: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/net/${family}/conf/${link}/${key}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * The per-link sysctls of each macvlan link (shims, ours or not; networkd and
 * NetworkManager make our shims without our alias): a few small /proc reads
 * per macvlan, none for other links, so a no-op apply stays cheap.
 * /proc/sys/net is the reading process's namespace, as for `ip`. An
 * unreadable value is not known, and not reported as drift.
 */
function withMacvlanSysctls(interfaces: InterfaceFact[]): InterfaceFact[] {
  for (const i of interfaces) {
    if (i.kind !== 'macvlan') continue;
    // The kernel answers proxied neighbour solicitations only with both on.
    const proxyNdp = linkSysctl('ipv6', i.name, 'proxy_ndp');
    if (proxyNdp === '1') {
      const forwarding = linkSysctl('ipv6', i.name, 'forwarding');
      if (forwarding !== undefined) i.proxyNdp = forwarding === '1';
    } else if (proxyNdp !== undefined) {
      i.proxyNdp = false;
    }
    const arpNotify = linkSysctl('ipv4', i.name, 'arp_notify');
    if (arpNotify !== undefined) i.arpNotify = arpNotify !== '0';
  }
  return interfaces;
}

/** IPv6 routes without a process when /proc allows; `ip -6 route` otherwise. */
async function ipv6Routes(ipBinary: string): Promise<RouteFact[]> {
  try {
    return parseProcIpv6Routes(readFileSync('/proc/net/ipv6_route', 'utf8'));
  } catch {
    const v6 = await run(ipBinary, ['-6', '-json', 'route', 'show', 'table', 'main']);
    return parseRoutes(v6.stdout || '[]', 6);
  }
}

export async function gatherIpFacts(ipBinary = 'ip'): Promise<IpFacts> {
  // One process for links, addresses and IPv4 routes (start-up time is a
  // feature: every spawn costs milliseconds). IPv6 routes need `-6`, which
  // batch lines cannot carry, so they come from /proc.
  const [batch, routes6] = await Promise.all([
    run(ipBinary, ['-json', '-details', '-batch', '-'], { input: 'address show\nroute show table main\nneigh show proxy\n' }),
    ipv6Routes(ipBinary),
  ]);
  const lines = batch.stdout.split('\n').filter((l) => l.trim().length > 0);
  const addrJson = lines[0] ?? '[]';
  const route4Json = lines[1] ?? '[]';
  return {
    interfaces: withMacvlanSysctls(parseInterfaces(addrJson, isWireless)),
    routes: [...parseRoutes(route4Json, 4), ...routes6],
    proxies6: parseProxyNeighbours(lines[2] ?? '[]'),
  };
}

/** Stable per host: machine-id under the root, else the hostname. */
export function readHostId(root = '/'): string {
  for (const p of ['etc/machine-id', 'var/lib/dbus/machine-id']) {
    try {
      const id = readFileSync(join(root, p), 'utf8').trim();
      if (id) return id;
    } catch {
      // try the next
    }
  }
  return hostname();
}
