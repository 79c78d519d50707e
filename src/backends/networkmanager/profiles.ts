/**
 * NetworkManager: its connection profiles (keyfiles), the parts of
 * NetworkManager.conf that leave devices alone, and what nmcli reports.
 *
 * nm-settings-keyfile(5): profiles live in /etc/NetworkManager/system-
 * connections, /usr/lib/NetworkManager/system-connections and
 * /run/NetworkManager/system-connections (where netplan writes
 * netplan-*.nmconnection). NetworkManager skips hidden and backup files
 * (`.x`, `x~`, mkstemp's `x.XXXXXX`, certificates `.pem`/`.der`), and outside
 * /etc it reads only `*.nmconnection`.
 *
 * NetworkManager.conf(5): conf.d snippets from /usr/lib, then /run, then
 * NetworkManager.conf, then /etc/NetworkManager/conf.d, later overriding
 * earlier; a snippet in /etc hides one of the same name in /run or /usr/lib.
 */
import { globMatchName } from '../glob.js';
import { lastValue, parseIni } from '../ini.js';
import { normalizeMac } from '../networkd/config-files.js';
import { type RootReader, joinPath } from '../root-reader.js';
import type { IniEntry, NetworkManagerFacts, NmDeviceState, NmProfile, ParentLink } from '../../model/manager-facts.js';

export const NM_PROFILE_DIRS = [
  { dir: '/etc/NetworkManager/system-connections', needsExtension: false },
  { dir: '/run/NetworkManager/system-connections', needsExtension: true },
  { dir: '/usr/lib/NetworkManager/system-connections', needsExtension: true },
];
export const NM_CONF = '/etc/NetworkManager/NetworkManager.conf';
const NM_CONF_D = ['/usr/lib/NetworkManager/conf.d', '/run/NetworkManager/conf.d', '/etc/NetworkManager/conf.d'];

/** nms_keyfile_utils_should_ignore_file(). */
export function nmIgnoresFile(name: string, needsExtension: boolean): boolean {
  const lower = name.toLowerCase();
  if (name.startsWith('.') || name.endsWith('~')) return true;
  if (/\.[A-Za-z0-9]{6}$/.test(name) && !lower.endsWith('.nmconnection')) return true;
  if (lower.endsWith('.pem') || lower.endsWith('.der') || lower.endsWith('.nmmeta')) return true;
  return needsExtension && !(name.length > '.nmconnection'.length && name.endsWith('.nmconnection'));
}

/** GLib string lists: `;`-separated, a trailing `;` allowed, `\;` escaped. */
function glibList(v: string): string[] {
  return v
    .split(/(?<!\\);/)
    .map((s) => s.replace(/\\;/g, ';').trim())
    .filter(Boolean);
}

export function parseProfile(text: string, path: string): NmProfile {
  const e = parseIni(text, path, 'glib');
  const get = (section: string, key: string) => lastValue(e, section, key);
  const type = get('connection', 'type');
  const p: NmProfile = { path, autoconnect: (get('connection', 'autoconnect') ?? 'true').toLowerCase() !== 'false' };
  const id = get('connection', 'id');
  const uuid = get('connection', 'uuid');
  const ifname = get('connection', 'interface-name');
  const master = get('connection', 'controller') ?? get('connection', 'master');
  const match = get('match', 'interface-name');
  const mac = get('ethernet', 'mac-address') ?? get('802-3-ethernet', 'mac-address');
  if (id) p.id = id;
  if (uuid) p.uuid = uuid;
  if (type) p.type = type === '802-3-ethernet' ? 'ethernet' : type;
  if (ifname) p.interfaceName = ifname;
  if (master) p.master = master;
  if (match) p.matchInterfaceName = glibList(match);
  if (mac) {
    const m = normalizeMac(mac);
    if (m) p.mac = m;
  }
  return p;
}

export function collectProfiles(reader: RootReader): { profiles: NmProfile[]; problems: string[] } {
  const profiles: NmProfile[] = [];
  const problems: string[] = [];
  for (const { dir, needsExtension } of NM_PROFILE_DIRS) {
    for (const name of reader.list(dir)) {
      if (nmIgnoresFile(name, needsExtension)) continue;
      const path = joinPath(dir, name);
      if (reader.info(path)?.type === 'dir') continue;
      const text = reader.read(path);
      if (text === undefined) problems.push(`${path} could not be read`);
      else profiles.push(parseProfile(text, path));
    }
  }
  return { profiles, problems };
}

/** The NetworkManager.conf settings detection needs, merged in NetworkManager's order. */
export function collectNmConf(reader: RootReader): Pick<NetworkManagerFacts, 'unmanagedDevices' | 'ifupdownManaged' | 'ifupdownPlugin'> {
  const [libDir, runDir, etcDir] = NM_CONF_D as [string, string, string];
  const names = (dir: string) => reader.list(dir).filter((n) => n.endsWith('.conf'));
  const etc = new Set(names(etcDir));
  const run = new Set(names(runDir));
  // /usr/lib first, then /run, then NetworkManager.conf, then /etc; a name in a later directory hides it in the earlier ones.
  const order = [
    ...[...names(libDir)].filter((n) => !run.has(n) && !etc.has(n)).map((n) => joinPath(libDir, n)),
    ...[...run].filter((n) => !etc.has(n)).map((n) => joinPath(runDir, n)),
    NM_CONF,
    ...[...etc].map((n) => joinPath(etcDir, n)),
  ];
  const entries: IniEntry[] = [];
  for (const f of order) {
    const text = reader.read(f);
    if (text !== undefined) entries.push(...parseIni(text, f, 'glib'));
  }
  let unmanaged: { specs: string[]; file: string } | undefined;
  let managed = false;
  let plugins: string[] = [];
  for (const e of entries) {
    if (e.section === 'keyfile' && e.key === 'unmanaged-devices') unmanaged = { specs: deviceSpecs(e.value), file: e.file };
    if (e.section === 'ifupdown' && e.key === 'managed') managed = e.value.toLowerCase() === 'true';
    if (e.section === 'main' && e.key === 'plugins') plugins = e.value.split(/[,;]/).map((s) => s.trim());
  }
  const out: Pick<NetworkManagerFacts, 'unmanagedDevices' | 'ifupdownManaged' | 'ifupdownPlugin'> = {
    ifupdownManaged: managed,
    ifupdownPlugin: plugins.includes('ifupdown'),
  };
  if (unmanaged && unmanaged.specs.length) out.unmanagedDevices = unmanaged;
  return out;
}

/** "Device List Format": specs separated by `,` or `;`, whitespace trimmed. */
export function deviceSpecs(v: string): string[] {
  return v
    .split(/(?<!\\)[,;]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** NetworkManager's device type names for the kinds this tool knows. */
function nmType(p: ParentLink): string | undefined {
  switch (p.kind) {
    case 'ethernet':
    case 'bridge':
    case 'bond':
    case 'vlan':
    case 'macvlan':
    case 'wireguard':
    case 'loopback':
    case 'dummy':
    case 'veth':
      return p.kind;
    default:
      return undefined;
  }
}

/** NetworkManager's interface-name specs: only `*` and `?`, no ranges (`=` takes the name literally). */
function nmNameGlob(pattern: string, name: string): boolean {
  if (pattern.startsWith('=')) return pattern.slice(1) === name;
  const p = pattern.startsWith('~') ? pattern.slice(1) : pattern;
  return globMatchName(p.replace(/[[\]\\]/g, '\\$&'), name);
}

/** One spec: true, false, or undefined when it needs a fact this tool does not have (driver, …). */
function specMatches(spec: string, p: ParentLink): boolean | undefined {
  if (spec === '*') return true;
  const colon = spec.indexOf(':');
  const prefix = colon > 0 ? spec.slice(0, colon) : '';
  const rest = colon > 0 ? spec.slice(colon + 1) : spec;
  const perm = p.permanentMac ?? p.mac;
  switch (prefix) {
    case 'interface-name':
      return nmNameGlob(rest, p.name);
    case 'mac':
      return perm ? normalizeMac(rest) === normalizeMac(perm) : undefined;
    case 'type': {
      const t = nmType(p);
      return t === undefined ? undefined : t === rest;
    }
    case '': {
      // A bare HWADDR or a bare interface name.
      const mac = normalizeMac(spec);
      if (mac) return perm ? mac === normalizeMac(perm) : undefined;
      return spec === p.name;
    }
    default:
      return undefined;
  }
}

/** Whether a device list selects the parent; undefined when that depends on facts this tool lacks. */
export function deviceListMatches(specs: readonly string[], p: ParentLink): boolean | undefined {
  let positive = false;
  let anyPositive = false;
  let unknown = false;
  for (const s of specs) {
    if (s.startsWith('except:')) {
      const r = specMatches(s.slice('except:'.length), p);
      if (r === true) return false;
      if (r === undefined) unknown = true;
      continue;
    }
    anyPositive = true;
    const r = specMatches(s, p);
    if (r === true) positive = true;
    if (r === undefined) unknown = true;
  }
  if (!anyPositive) return unknown ? undefined : true;
  if (positive) return unknown ? undefined : true;
  return unknown ? undefined : false;
}

/**
 * [match] interface-name (nm-settings(5)): a matching `!` pattern rejects;
 * otherwise one matching plain or `~` pattern accepts; a list of only `!`
 * patterns accepts whatever none of them names.
 */
function matchInterfaceName(patterns: readonly string[], name: string): boolean {
  let hasPositive = false;
  let positive = false;
  for (const raw of patterns) {
    if (raw.startsWith('!')) {
      if (nmNameGlob(raw.slice(1), name)) return false;
      continue;
    }
    hasPositive = true;
    if (nmNameGlob(raw, name)) positive = true;
  }
  return hasPositive ? positive : true;
}

/** How a profile binds to the parent: by name, by [match], by MAC; undefined when it does not. */
export function profileBinding(p: NmProfile, parent: ParentLink): string | undefined {
  if (p.interfaceName !== undefined) {
    if (p.interfaceName !== parent.name) return undefined;
    if (p.matchInterfaceName && !matchInterfaceName(p.matchInterfaceName, parent.name)) return undefined;
    return `interface-name=${parent.name}`;
  }
  if (p.matchInterfaceName?.length && matchInterfaceName(p.matchInterfaceName, parent.name)) return `[match] interface-name=${p.matchInterfaceName.join(';')}`;
  const perm = parent.permanentMac ?? parent.mac;
  if (p.mac && perm && normalizeMac(perm) === p.mac) return `mac-address=${p.mac}`;
  return undefined;
}

/**
 * `nmcli -t -f DEVICE,STATE,CONNECTION device`: fields separated by `:`,
 * with `:` and `\` in values escaped by `\`.
 */
export function parseNmcliDevices(text: string): NmDeviceState[] {
  const out: NmDeviceState[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const fields: string[] = [''];
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (c === '\\' && i + 1 < line.length) fields[fields.length - 1] += line[++i]!;
      else if (c === ':') fields.push('');
      else fields[fields.length - 1] += c;
    }
    const [device, state, connection] = fields;
    if (!device || state === undefined) continue;
    const d: NmDeviceState = { device, state };
    if (connection && connection !== '--') d.connection = connection;
    out.push(d);
  }
  return out;
}

/** A device state in which NetworkManager does not configure the device itself. */
export function nmLeavesAlone(state: string): boolean {
  return state.startsWith('unmanaged') || state.includes('externally');
}

/** Whether NetworkManager may be on this root at all (its program, or its runtime directory): only then is nmcli worth asking. */
export function networkManagerMayRun(reader: RootReader): boolean {
  return ['/usr/sbin/NetworkManager', '/usr/bin/NetworkManager', '/run/NetworkManager'].some((p) => reader.info(p) !== undefined);
}
