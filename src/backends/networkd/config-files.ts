/**
 * systemd-networkd: which .network file it applies to the parent.
 *
 * systemd.network(5) (systemd 252): .network files are read from
 * /etc/systemd/network, /run/systemd/network, /usr/local/lib/systemd/network
 * and /usr/lib/systemd/network (/lib on split-/usr systems); a file in a
 * higher directory replaces every file of the same name below it, and an
 * empty one (or a symlink to /dev/null) masks it. All files are sorted by
 * name, whatever their directory, and "the first (in alphanumeric order) of
 * the network files that matches a given interface is applied, all later
 * files are ignored". Drop-ins NAME.network.d/*.conf come from every
 * directory (same-named ones in /etc over /run over /lib), sorted by name,
 * parsed after the main file — a drop-in can add [Match] conditions too.
 *
 * [Match] keys are whitespace-separated lists that accumulate across lines;
 * an empty assignment resets the list; a leading `!` inverts every word of
 * that assignment; a file with no [Match] conditions matches every link.
 */
import { globMatchName } from '../glob.js';
import { parseBoolean, parseIni } from '../ini.js';
import { type RootReader, isMasked, joinPath } from '../root-reader.js';
import type { IniEntry, NetworkdFacts, NetworkdFile, NetworkdLinkState, ParentLink, UnitFacts } from '../../model/manager-facts.js';

/** Highest priority first. */
export const NETWORKD_DIRS = [
  '/etc/systemd/network',
  '/run/systemd/network',
  '/usr/local/lib/systemd/network',
  '/usr/lib/systemd/network',
  '/lib/systemd/network',
];
export const NETWORKD_LINKS_DIR = '/run/systemd/netif/links';

/** Of every name, the file in the highest directory (undefined when that one masks it). */
function winners(reader: RootReader, dirs: string[], suffix: string, masked: string[]): Map<string, string> {
  const seen = new Map<string, string | undefined>();
  for (const dir of dirs) {
    for (const name of reader.list(dir)) {
      if (!name.endsWith(suffix) || name.startsWith('.') || seen.has(name)) continue;
      const path = joinPath(dir, name);
      const info = reader.info(path);
      if (!info || info.type === 'dir') continue;
      if (isMasked(info)) {
        seen.set(name, undefined);
        masked.push(path);
      } else seen.set(name, path);
    }
  }
  const out = new Map<string, string>();
  for (const name of [...seen.keys()].sort(compareNames)) {
    const p = seen.get(name);
    if (p) out.set(name, p);
  }
  return out;
}

/** strcmp order of file names, as systemd sorts them. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The files networkd uses, in its order, with their [Match] and [Link] lines. */
export function collectNetworkdFiles(reader: RootReader): { files: NetworkdFile[]; masked: string[]; problems: string[] } {
  const masked: string[] = [];
  const problems: string[] = [];
  const files: NetworkdFile[] = [];
  for (const [name, path] of winners(reader, NETWORKD_DIRS, '.network', masked)) {
    const dropIns = [
      ...winners(
        reader,
        NETWORKD_DIRS.map((d) => joinPath(d, `${name}.d`)),
        '.conf',
        masked,
      ).values(),
    ];
    const entries: IniEntry[] = [];
    for (const f of [path, ...dropIns]) {
      const text = reader.read(f);
      if (text === undefined) {
        problems.push(`${f} could not be read`);
        continue;
      }
      entries.push(...parseIni(text, f, 'systemd').filter((e) => e.section === 'Match' || e.section === 'Link'));
    }
    files.push({ path, dropIns, entries });
  }
  return { files, masked, problems };
}

/** /run/systemd/netif/links/IFINDEX: what the running networkd did with each link (written since boot). */
export function collectLinkStates(reader: RootReader): NetworkdLinkState[] {
  const out: NetworkdLinkState[] = [];
  for (const name of reader.list(NETWORKD_LINKS_DIR)) {
    if (!/^[0-9]+$/.test(name)) continue;
    const path = joinPath(NETWORKD_LINKS_DIR, name);
    const text = reader.read(path);
    if (text === undefined) continue;
    const state: NetworkdLinkState = { index: Number(name), path };
    for (const line of text.split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line);
      if (!m) continue;
      if (m[1] === 'ADMIN_STATE') state.adminState = m[2]!;
      if (m[1] === 'NETWORK_FILE') state.networkFile = m[2]!;
    }
    out.push(state);
  }
  return out;
}

export function collectNetworkd(reader: RootReader, unit: UnitFacts, running: boolean | undefined, withLinks: boolean): { facts: NetworkdFacts; problems: string[] } {
  const { files, masked, problems } = collectNetworkdFiles(reader);
  const facts: NetworkdFacts = { unit, files, masked, directories: NETWORKD_DIRS, links: withLinks ? collectLinkStates(reader) : [] };
  if (running !== undefined) facts.running = running;
  return { facts, problems };
}

// ---- matching ----------------------------------------------------------------

/** Keys whose value is a list of words (systemd 252 networkd-network-gperf.gperf, [Match]). */
const LIST_KEYS = new Set(['Name', 'MACAddress', 'PermanentMACAddress', 'Type', 'Kind', 'Driver', 'Path', 'Property', 'WLANInterfaceType', 'SSID', 'BSSID']);
/** Conditions on the machine rather than the link (Host=, Virtualization=, …): they cannot be judged from here. */
const CONDITION_KEYS = new Set(['Host', 'Virtualization', 'KernelCommandLine', 'KernelVersion', 'Credential', 'Architecture', 'Firmware']);

export type MatchVerdict =
  | { matches: true; /** conditions that could not be checked and were taken as met */ assumed: string[] }
  | { matches: false; /** the condition that failed, e.g. "Name=eth*" */ failed: string };

/** Folds the [Match] lines into one list per key, as networkd's parser does. */
function matchLists(entries: readonly IniEntry[]): { lists: Map<string, string[]>; conditions: string[] } {
  const lists = new Map<string, string[]>();
  const conditions: string[] = [];
  for (const e of entries) {
    if (e.section !== 'Match') continue;
    if (CONDITION_KEYS.has(e.key)) {
      if (e.value !== '') conditions.push(`${e.key}=${e.value}`);
      continue;
    }
    if (!LIST_KEYS.has(e.key)) continue;
    if (e.value === '') {
      lists.delete(e.key);
      continue;
    }
    const macs = e.key === 'MACAddress' || e.key === 'PermanentMACAddress' || e.key === 'BSSID';
    const invert = !macs && e.value.startsWith('!');
    const words = (invert ? e.value.slice(1) : e.value).split(/\s+/).filter(Boolean);
    const list = lists.get(e.key) ?? [];
    list.push(...words.map((w) => (invert ? `!${w}` : w)));
    lists.set(e.key, list);
  }
  return { lists, conditions };
}

/**
 * net_condition_test_strv(): a `!` pattern that matches rejects; otherwise
 * the value must match a positive pattern, unless there is none. An absent
 * value (a NIC has no Kind) matches no pattern.
 */
function testPatterns(patterns: readonly string[], value: string | undefined): boolean {
  let positive = false;
  let matched = false;
  for (const p of patterns) {
    const invert = p.startsWith('!');
    const q = invert ? p.slice(1) : p;
    if (!invert) positive = true;
    if (value !== undefined && globMatchName(q, value)) {
      if (invert) return false;
      matched = true;
    }
  }
  return positive ? matched : true;
}

/** 12:34:56:78:9a:bc, 12-34-…, 1234.5678.9abc → lower-case colon form. */
export function normalizeMac(s: string): string | undefined {
  const t = s.trim().toLowerCase();
  let hex: string;
  if (/^[0-9a-f]{1,2}([:-][0-9a-f]{1,2}){5}$/.test(t)) hex = t.split(/[:-]/).map((b) => b.padStart(2, '0')).join('');
  else if (/^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/.test(t)) hex = t.replace(/\./g, '');
  else return undefined;
  return hex.match(/../g)!.join(':');
}

/** The link type as `networkctl list` shows it: udev DEVTYPE, else the ARPHRD name. */
function networkdType(p: ParentLink): string | undefined {
  switch (p.kind) {
    case 'ethernet':
    case 'veth':
    case 'macvlan':
    case 'dummy':
      return 'ether';
    case 'bridge':
    case 'bond':
    case 'vlan':
    case 'wireguard':
      return p.kind;
    case 'loopback':
      return 'loopback';
    default:
      return undefined;
  }
}

/** Software links networkd sees with an all-zero permanent address (so no PermanentMACAddress= matches them). */
const NO_PERMANENT_ADDRESS = new Set(['veth', 'bridge', 'bond', 'vlan', 'macvlan', 'ipvlan', 'dummy', 'tun', 'wireguard', 'loopback']);

/** The permanent MAC: known, null when the link has none, undefined when not known. */
function permanentMac(p: ParentLink): string | null | undefined {
  if (p.permanentMac) return p.permanentMac;
  if (p.kind === 'ethernet') return p.mac; // ip shows permaddr only when it differs from the current address
  if (p.kind && NO_PERMANENT_ADDRESS.has(p.kind)) return null;
  return undefined;
}

/** Whether the link has no IFLA_INFO_KIND at all (a plain NIC), as opposed to not being known. */
function kindOf(p: ParentLink): { known: boolean; value?: string } {
  if (p.infoKind) return { known: true, value: p.infoKind };
  if (p.kind === 'ethernet') return { known: true };
  return { known: false };
}

/** Whether a .network file's [Match] section (main file and drop-ins) matches the parent. */
export function matchNetworkFile(file: NetworkdFile, parent: ParentLink): MatchVerdict {
  const { lists, conditions } = matchLists(file.entries);
  const assumed: string[] = [...conditions];
  const show = (key: string) => `${key}=${lists.get(key)!.join(' ')}`;
  for (const [key, patterns] of lists) {
    switch (key) {
      case 'Name': {
        const names = [parent.name, ...(parent.altNames ?? [])];
        if (!names.some((n) => testPatterns(patterns, n))) return { matches: false, failed: show(key) };
        break;
      }
      case 'MACAddress':
      case 'PermanentMACAddress': {
        const have = key === 'MACAddress' ? parent.mac : permanentMac(parent);
        if (have === null) return { matches: false, failed: show(key) };
        if (!have) {
          assumed.push(show(key));
          break;
        }
        const want = new Set(patterns.map(normalizeMac).filter((m): m is string => m !== undefined));
        if (!want.has(normalizeMac(have) ?? have)) return { matches: false, failed: show(key) };
        break;
      }
      case 'Type': {
        const t = networkdType(parent);
        if (t === undefined) assumed.push(show(key));
        else if (!testPatterns(patterns, t)) return { matches: false, failed: show(key) };
        break;
      }
      case 'Kind': {
        const k = kindOf(parent);
        if (!k.known) assumed.push(show(key));
        else if (!testPatterns(patterns, k.value)) return { matches: false, failed: show(key) };
        break;
      }
      default:
        // Driver=, Path=, Property=, WLAN…: udev and wireless facts this tool does not read.
        assumed.push(show(key));
    }
  }
  return { matches: true, assumed };
}

export interface ParentNetworkFile {
  file: NetworkdFile;
  assumed: string[];
  /** [Link] Unmanaged=yes: networkd matches the link and then leaves it alone. */
  unmanaged: boolean;
}

/** The first file in networkd's order that matches the parent, as networkd would pick it at boot. */
export function findParentNetworkFile(files: readonly NetworkdFile[], parent: ParentLink): ParentNetworkFile | undefined {
  for (const file of files) {
    const v = matchNetworkFile(file, parent);
    if (!v.matches) continue;
    let unmanaged = false;
    for (const e of file.entries) if (e.section === 'Link' && e.key === 'Unmanaged') unmanaged = parseBoolean(e.value) ?? unmanaged;
    return { file, assumed: v.assumed, unmanaged };
  }
  return undefined;
}
