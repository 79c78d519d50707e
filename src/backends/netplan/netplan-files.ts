/**
 * netplan: which renderer (networkd or NetworkManager) it gives the parent.
 *
 * netplan(5): YAML files in /lib/netplan, /etc/netplan and /run/netplan
 * (one name in /run hides it in /etc, in /etc hides it in /lib), read in file
 * name order, later ones overriding earlier keys. `renderer` may be set for
 * the whole network, for a device type (ethernets:, bridges:, …) or for one
 * device; the default is networkd. A device is named by its ID, or by
 * `match:` (name glob, macaddress) with an optional `set-name`.
 *
 * The YAML reader here is deliberately small (the full yaml package lives in
 * the separately bundled file reader): block mappings by indentation, plain
 * and quoted scalars, comments. Sequences are skipped, as nothing below them
 * matters here; a flow mapping where a device or section is expected is
 * reported as a problem instead of guessed at.
 */
import { globMatchName } from '../glob.js';
import { normalizeMac } from '../networkd/config-files.js';
import { type RootReader, joinPath } from '../root-reader.js';
import type { NetplanDevice, NetplanFacts, NetplanRenderer, ParentLink } from '../../model/manager-facts.js';

/** Highest priority first. */
export const NETPLAN_DIRS = ['/run/netplan', '/etc/netplan', '/lib/netplan'];
const DEVICE_TYPES = ['ethernets', 'bonds', 'bridges', 'vlans', 'wifis', 'tunnels', 'vrfs', 'modems', 'dummy-devices', 'virtual-ethernets', 'nm-devices'];

type Node = { [key: string]: Node | string };

function unquote(s: string): string {
  const t = s.trim();
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) return t.slice(1, -1);
  return t;
}

/** Removes a `#` comment that is not inside quotes (YAML: `#` after whitespace). */
function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  return line;
}

/** Block mappings only; sequence items and everything nested under them are skipped. */
export function parseBlockYaml(text: string): Node {
  const root: Node = {};
  const stack: { indent: number; node: Node | undefined }[] = [{ indent: -1, node: root }];
  for (const raw of text.split(/\r?\n/)) {
    const line = stripComment(raw).replace(/\s+$/, '');
    if (line.trim() === '' || line.trim() === '---') continue;
    const indent = line.length - line.trimStart().length;
    while (stack.length > 1 && stack[stack.length - 1]!.indent >= indent) stack.pop();
    const parent = stack[stack.length - 1]!.node;
    const body = line.trim();
    if (body.startsWith('- ') || body === '-') {
      stack.push({ indent, node: undefined }); // a sequence item: ignore it and all below
      continue;
    }
    const m = /^("[^"]*"|'[^']*'|[^:]+?)\s*:(\s+(.*))?$/.exec(body);
    if (!m || !parent) {
      stack.push({ indent, node: undefined });
      continue;
    }
    const key = unquote(m[1]!);
    const value = m[3]?.trim();
    if (value === undefined || value === '') {
      const child: Node = {};
      parent[key] = child;
      stack.push({ indent, node: child });
    } else {
      parent[key] = value.startsWith('{') || value.startsWith('[') ? value : unquote(value);
      stack.push({ indent, node: undefined });
    }
  }
  return root;
}

function asRenderer(v: unknown): NetplanRenderer | undefined {
  if (v === 'networkd') return 'networkd';
  if (typeof v === 'string' && v.toLowerCase() === 'networkmanager') return 'NetworkManager';
  return undefined;
}

export function collectNetplan(reader: RootReader): NetplanFacts {
  const facts: NetplanFacts = { files: [], typeRenderers: {}, devices: [], problems: [] };
  const byName = new Map<string, string>();
  for (const dir of NETPLAN_DIRS) {
    for (const name of reader.list(dir)) if (name.endsWith('.yaml') && !byName.has(name)) byName.set(name, joinPath(dir, name));
  }
  const devices = new Map<string, NetplanDevice>();
  for (const name of [...byName.keys()].sort()) {
    const file = byName.get(name)!;
    const text = reader.read(file);
    if (text === undefined) {
      facts.problems.push(`${file} could not be read`);
      continue;
    }
    facts.files.push(file);
    const network = parseBlockYaml(text).network;
    if (network === undefined) continue;
    if (typeof network === 'string') {
      facts.problems.push(`${file}: \`network:\` is written in flow style, which macvlanctl does not read`);
      continue;
    }
    const r = asRenderer(network.renderer);
    if (r) facts.renderer = { value: r, file };
    for (const type of DEVICE_TYPES) {
      const section = network[type];
      if (section === undefined) continue;
      if (typeof section === 'string') {
        facts.problems.push(`${file}: \`${type}:\` is written in flow style, which macvlanctl does not read`);
        continue;
      }
      const tr = asRenderer(section.renderer);
      if (tr) facts.typeRenderers[type] = { value: tr, file };
      for (const [id, def] of Object.entries(section)) {
        if (id === 'renderer') continue;
        const key = `${type}/${id}`;
        const d: NetplanDevice = devices.get(key) ?? { id, type, file };
        d.file = file;
        if (typeof def === 'string') {
          if (def.startsWith('{')) facts.problems.push(`${file}: ${type}.${id} is written in flow style, which macvlanctl does not read`);
        } else {
          const dr = asRenderer(def.renderer);
          if (dr) d.renderer = dr;
          if (typeof def['set-name'] === 'string') d.setName = def['set-name'];
          const match = def.match;
          if (match && typeof match !== 'string') {
            if (typeof match.name === 'string') d.matchName = match.name;
            if (typeof match.macaddress === 'string') d.matchMac = match.macaddress;
          }
        }
        devices.set(key, d);
      }
    }
  }
  facts.devices = [...devices.values()];
  return facts;
}

/** The netplan definition that names the parent (its ID, set-name, or match), if any. */
export function netplanDeviceFor(facts: NetplanFacts, parent: ParentLink): NetplanDevice | undefined {
  const mac = parent.permanentMac ?? parent.mac;
  return facts.devices.find((d) => {
    if (d.matchName === undefined && d.matchMac === undefined) return d.id === parent.name;
    if (d.matchMac !== undefined && !(mac && normalizeMac(d.matchMac) === normalizeMac(mac))) return false;
    // set-name renames what match: found, so the parent carries the new name.
    if (d.setName !== undefined) return d.setName === parent.name;
    return d.matchName === undefined || globMatchName(d.matchName, parent.name);
  });
}

/** The renderer of a device: its own, its type's, the network's, else networkd; with the file that says so. */
export function netplanRenderer(facts: NetplanFacts, d: NetplanDevice): { value: NetplanRenderer; file: string } {
  if (d.renderer) return { value: d.renderer, file: d.file };
  return facts.typeRenderers[d.type] ?? facts.renderer ?? { value: 'networkd', file: d.file };
}

/** The .network file netplan generates for a device (netplan's networkd backend: 10-netplan-ID.network in /run). */
export function netplanNetworkFile(d: NetplanDevice): string {
  return `/run/systemd/network/10-netplan-${d.id}.network`;
}
