/**
 * `status` for people: each network's state, problems and LAN facts, and the address map drawn
 * under it on a terminal. The JSON output is the same result object, unrendered.
 */
import type { HostFacts } from '../model/facts.js';
import type { LanScan } from '../model/lan.js';
import type { NetworkLan, NetworkStatus } from '../plan/network-status.js';
import { SCAN_CACHE_MAX_AGE_MS } from '../gather/scan-cache.js';
import { renderAddressMap } from './address-map.js';
import { addressMapInput } from './address-map-input.js';
import { colors as c } from './colors.js';
import { scanAge } from './plan.js';
import { presentFleet } from './swarm-fleet.js';

/** What status gathered: the result it prints, and the facts and scans its maps are drawn from. */
export interface Collected {
  result: { networks: NetworkStatus[]; docker: string };
  facts: HostFacts;
  scans: Map<string, LanScan>;
}

/** Address maps by network name (drawn under each network, on a terminal only). */
export interface StatusMaps {
  maps: Map<string, string>;
}

function describeLan(l: NetworkLan): string {
  const age = scanAge(l.ageSeconds);
  const parts: string[] = [];
  if (l.live) parts.push(`${l.live.length} other live host(s)`);
  if (l.dhcp) {
    if (l.dhcp.servers.length === 0) parts.push('no DHCP server');
    for (const p of l.dhcp.pools) parts.push(`DHCP ${p.server} pool ≈ ${p.first}–${p.last} (${p.confidence})`);
  }
  return `scanned ${age} ago: ${parts.join('; ') || 'nothing probed'}`;
}

export function presentStatus(s: { networks: NetworkStatus[]; docker: string }, extra?: StatusMaps): string {
  const out: string[] = [];
  if (s.networks.length === 0) out.push('No networks managed by macvlanctl on this host.');
  for (const n of s.networks) {
    out.push(`${c.bold(n.name)}  ${n.healthy ? c.green('healthy') : c.red('unhealthy')}`);
    out.push(`  docker    ${n.docker.present ? `macvlan ${n.mode ?? ''} on ${n.parent ?? '?'}, ${n.subnet ?? '?'} gateway ${n.gateway ?? '?'}, range ${n.ipRange ?? '(whole subnet)'}` : c.red('missing')}`);
    if (n.ipv6) out.push(`  ipv6      ${n.ipv6.subnet} gateway ${n.ipv6.gateway ?? '?'}, range ${n.ipv6.ipRange ?? '(whole subnet)'}`);
    const sh = n.shim;
    out.push(
      `  shim      ${sh.interface ?? '(none)'} ${sh.present ? `${sh.up ? c.green('up') : c.red('down')} ${sh.address ?? c.red('no address')}${sh.address6 ? ` ${sh.address6}` : ''} MAC ${sh.mac ?? '?'}` : c.red('missing')}`,
    );
    out.push(`  routes    ${sh.routes.join(', ') || '(none)'}`);
    out.push(`  files     ${n.persistence.join(', ') || '(none)'}`);
    if (n.containers.length === 0) out.push('  containers (none attached)');
    for (const ct of n.containers) {
      const r = ct.reachable === undefined ? '' : ct.reachable ? c.green('reachable') : c.red('unreachable');
      const compose = ct.compose ? `  (Compose ${ct.compose.project}/${ct.compose.service})` : '';
      out.push(`  container ${ct.name.padEnd(20)} ${(ct.address ?? '-').padEnd(16)} ${r}${compose}`);
    }
    if (n.lan) out.push(`  lan       ${describeLan(n.lan)}`);
    if (n.swarmNode) {
      const role = n.swarmNode.manager ? 'manager' : 'worker';
      out.push(`  swarm     node ${n.swarmNode.node} (${role}), slice ${n.swarmNode.slice ?? '?'}, config-only network ${n.swarmNode.configOnly}${n.swarmNode.manager ? '' : `; the fleet view is on a manager (macvlanctl status ${n.name} there)`}`);
    }
    if (n.swarm) out.push(presentFleet(n.swarm).trimEnd());
    for (const p of n.problems) out.push(c.yellow(`  problem: ${p}`));
    // Not a problem of the network itself (the scan may be minutes old), but worth knowing now.
    if (n.lan?.inRange?.length) {
      out.push(c.yellow(`  warning: ${n.lan.inRange.join(', ')} answered inside the ip-range ${n.ipRange} and ${n.lan.inRange.length === 1 ? 'is' : 'are'} not a container of this host; macvlanctl doctor checks it now`));
    }
    const map = extra?.maps.get(n.name);
    // Not indented: a 64-cell row with its label already takes 80 columns.
    if (map) out.push('', map.trimEnd());
    out.push('');
  }
  out.push(c.dim(`docker: ${s.docker}`));
  return `${out.join('\n')}\n`;
}

/** The maps to draw: one per network with an IPv4 subnet, with colour when the terminal has it. */
export function statusMaps(collected: Collected, color: boolean): StatusMaps {
  const maps = new Map<string, string>();
  for (const n of collected.result.networks) {
    const scan = collected.scans.get(n.name);
    if (!n.subnet) continue;
    const input = addressMapInput({ subnet: n.subnet, parent: n.parent, gateway: n.gateway }, collected.facts, scan);
    let text = renderAddressMap(input, { color });
    if (!scan) text += c.dim(`(no scan of ${n.parent ?? 'the parent'} in the last ${SCAN_CACHE_MAX_AGE_MS / 60_000} minutes: sudo macvlanctl scan --parent ${n.parent ?? 'IF'} adds live hosts and the DHCP pool)\n`);
    maps.set(n.name, text);
  }
  return { maps };
}
