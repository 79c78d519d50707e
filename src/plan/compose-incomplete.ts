/**
 * What a Compose file must say for `docker compose down` + `up` to re-create
 * the network macvlanctl planned: Compose creates it from the file alone, so
 * every value macvlanctl decided (a carved ip_range, the shim's aux address,
 * an inferred parent, subnet or gateway) or read from `x-macvlanctl:` (which
 * Compose ignores) must also be in `driver_opts:` and `ipam.config`, or the
 * re-created network has no ip-range and no reservation for the shim. (Compose
 * 1.29 does not notice the difference before that: its IPAM comparison,
 * check_remote_ipam_config in compose/network.py, converts the already
 * converted IPAM config again and so finds no entries to compare; the e2e shows
 * it taking the network and losing the range on down + up.)
 *
 * Pure: from the declaration's origins (which say where each value was
 * written) and the planned network, the warning with the YAML to add.
 */
import type { DesiredNetwork } from '../model/desired.js';
import type { PlannedNetwork, Warning } from '../model/plan.js';

/** Whether `key` was written where Compose reads it (its origin names that place in the file). */
function inFile(desired: DesiredNetwork, key: string, where: RegExp): boolean {
  const origin = desired.origins[key];
  return origin !== undefined && where.test(origin);
}

interface Line {
  text: string;
  add: boolean;
}

function entryLines(desired: DesiredNetwork, prefix: string, subnet: string, gateway: string, ipRange: string, aux: Record<string, string>): Line[] {
  const ipam = /\.ipam\.config\[\d+\]\./;
  const lines: Line[] = [
    { text: `        - subnet: ${subnet}`, add: !inFile(desired, `${prefix}subnet`, ipam) },
    { text: `          gateway: ${gateway}`, add: !inFile(desired, `${prefix}gateway`, ipam) },
    { text: `          ip_range: ${ipRange}`, add: !inFile(desired, `${prefix}ipRange`, ipam) },
  ];
  const names = Object.keys(aux);
  if (names.length > 0) {
    const missing = names.filter((n) => !inFile(desired, n === 'host' ? `${prefix}hostAddress` : `auxAddresses.${n}`, ipam));
    lines.push({ text: '          aux_addresses:', add: missing.length === names.length });
    for (const n of names) lines.push({ text: `            ${n}: ${aux[n]}`, add: missing.includes(n) });
  }
  return lines;
}

/** COMPOSE_FILE_INCOMPLETE when the file leaves out a value the network depends on; undefined when it says everything. */
export function composeIncompleteWarning(desired: DesiredNetwork, n: PlannedNetwork): Warning | undefined {
  const c = desired.compose;
  if (!c || c.external) return undefined;
  const lines: Line[] = [
    { text: `  ${c.key}:`, add: false },
    { text: '    driver_opts:', add: false },
    { text: `      parent: ${n.parent}`, add: !inFile(desired, 'parent', /\.driver_opts\.parent$/) },
  ];
  if (n.mode !== 'bridge') lines.push({ text: `      macvlan_mode: ${n.mode}`, add: !inFile(desired, 'mode', /\.driver_opts\.macvlan_mode$/) });
  // Without it Compose re-creates the network with IPv6 off, and the engine then gives no container an IPv6 address.
  if (n.ipv6) lines.push({ text: '    enable_ipv6: true', add: c.enableIpv6 !== true });
  lines.push({ text: '    ipam:', add: false }, { text: '      config:', add: false });
  lines.push(...entryLines(desired, '', n.subnet, n.gateway, n.ipRange, n.auxAddresses));
  if (n.ipv6) lines.push(...entryLines(desired, 'ipv6.', n.ipv6.subnet, n.ipv6.gateway, n.ipv6.ipRange, n.ipv6.auxAddresses));
  const added = lines.filter((l) => l.add);
  if (added.length === 0) return undefined;
  const width = Math.max(...lines.map((l) => l.text.length));
  const snippet = ['networks:', ...lines.map((l) => (l.add ? `${l.text.padEnd(width)}  # add` : l.text))].join('\n');
  return {
    code: 'COMPOSE_FILE_INCOMPLETE',
    message: `the Compose file does not say ${added
      .map((l) => l.text.trim().replace(/^- /, ''))
      .filter((t) => !t.endsWith(':'))
      .join(', ')} for network ${c.key}; \`docker compose down\` then \`up\` would re-create ${n.name} from the file without ${added.length === 1 ? 'it' : 'them'}, so Docker could hand containers any address of the subnet, the shim's included`,
    fix: `add the lines marked "# add" to the file:\n${snippet}`,
  };
}
