/**
 * zod issues → sentences a person can act on: what was expected there (with a
 * hint of the form, such as "a CIDR such as 192.168.1.0/24"), what was found,
 * and how to fix it ("did you mean 'gateway'?", "write it as a list").
 */
import type { z } from 'zod';
import { MACVLAN_MODES, PERSIST_BACKENDS } from '../model/desired.js';
import { isPlainMap } from './plain-map.js';
import { keysOf, schemaAt, unionOptions } from './schema-path.js';
import { suggestKey } from './suggest-key.js';
import type { Path } from './yaml-tree.js';

/**
 * Other words people use for our keys (folded: lower case, no `_`/`-`), each
 * with the keys it may mean; the first one valid in the map at hand is suggested.
 */
const KEY_ALIASES: Record<string, string[]> = {
  macvlanmode: ['mode'],
  interface: ['parent'],
  iface: ['parent', 'interface'],
  nic: ['parent'],
  master: ['parent'],
  link: ['parent'],
  dev: ['parent', 'interface'],
  device: ['parent', 'interface'],
  name: ['interface'],
  shim: ['host_access', 'interface'],
  shiminterface: ['host_access', 'interface'],
  shimname: ['host_access', 'interface'],
  ip: ['address'],
  addr: ['address'],
  hostip: ['host_address', 'address'],
  shimaddress: ['host_address', 'address'],
  auxaddress: ['aux_addresses'],
  network: ['networks'],
};

function aliasesFor(candidates: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [word, meanings] of Object.entries(KEY_ALIASES)) {
    const hit = meanings.find((m) => candidates.includes(m));
    if (hit) out[word] = hit;
  }
  return out;
}

/** A value as a sentence names it: "the text '24'", "a list", "an empty value". */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'an empty value';
  if (typeof v === 'string') return `the text '${v}'`;
  if (typeof v === 'number' || typeof v === 'bigint') return `the number ${String(v)}`;
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Uint8Array) return 'binary data';
  if (typeof v === 'object') return 'a map';
  return typeof v;
}

function expectedText(expected: string): string {
  switch (expected) {
    case 'string':
      return 'text';
    case 'object':
    case 'record':
    case 'map':
      return 'a map';
    case 'array':
      return 'a list';
    case 'boolean':
      return 'true or false';
    case 'number':
      return 'a number';
    default:
      return expected;
  }
}

const FIELD_HINTS: Record<string, string> = {
  networks: 'network names, each with its settings',
  parent: 'an interface name such as eth0',
  subnet: 'a CIDR such as 192.168.1.0/24',
  gateway: 'an address such as 192.168.1.1',
  ip_range: 'a CIDR such as 192.168.1.192/27, or auto, or auto/27',
  host_address: 'an address, or auto',
  mode: MACVLAN_MODES.join(', '),
  macvlan_mode: MACVLAN_MODES.join(', '),
  persist: PERSIST_BACKENDS.join(', '),
  interface: 'the shim interface name, such as lan-shim',
  address: "the shim's address",
  avoid: 'addresses, ranges (A-B) or CIDRs',
  aux_addresses: 'name: address entries',
  ipv6: 'subnet, gateway, ip_range and host_address',
  host_access: 'true, false, or a map with interface and address',
  ipam: 'config: with subnet entries',
  config: 'entries with subnet, gateway, ip_range and aux_addresses',
  driver_opts: 'parent and macvlan_mode',
  name: 'a Docker network name',
  driver: 'a driver name such as macvlan',
  'x-macvlanctl': 'macvlanctl settings such as host_access and avoid',
};

function hintFor(path: Path): string | undefined {
  const last = path[path.length - 1];
  const parent = path[path.length - 2];
  if (typeof last === 'string') {
    if (parent === 'aux_addresses') return 'an address';
    if (path.length === 2 && path[0] === 'networks') return 'settings such as parent and subnet';
    return FIELD_HINTS[last];
  }
  if (parent === 'avoid') return 'an address, a range A-B or a CIDR';
  if (parent === 'config') return 'a map with subnet, gateway, ip_range and aux_addresses';
  return undefined;
}

/** Fields holding addresses: quoting a number there would not make it right. */
const ADDRESS_KEYS = new Set(['subnet', 'gateway', 'ip_range', 'host_address', 'address', 'avoid', 'aux_addresses']);

function typeFix(expected: string, actual: unknown, path: Path): string {
  if (actual === null || actual === undefined) return '; give a value or remove the key';
  const wantsMap = expected === 'object' || expected === 'record' || expected === 'map';
  if (wantsMap && Array.isArray(actual)) return '; write it as a map (key: value lines), not as a list (- item lines)';
  if (expected === 'array' && isPlainMap(actual)) return '; write it as a list (- item lines), not as a map';
  if (expected === 'array' && typeof actual === 'string') return `; write it as a list: [${actual}]`;
  if (expected === 'boolean' && typeof actual === 'string' && /^(yes|no|on|off|y|n)$/i.test(actual)) {
    return '; YAML 1.2 reads this as text: write true or false';
  }
  const addressLike = path.some((seg) => typeof seg === 'string' && ADDRESS_KEYS.has(seg));
  if (expected === 'string' && !addressLike && (typeof actual === 'number' || typeof actual === 'boolean')) {
    return `; put it in quotes if it is meant as text ('${String(actual)}')`;
  }
  return '';
}

/** What the messages need to know of the file: the value at a place, and whether that place was already reported. */
export interface IssueSubject {
  valueAt(path: Path): unknown;
  isBroken(path: Path): boolean;
}

/** One problem to report: at the value (or, for an unknown key, at the key) of `path`. */
export interface IssueMessage {
  path: Path;
  message: string;
  which: 'value' | 'key';
}

/**
 * The messages for one zod issue from validating the value at `base` against
 * `schema`. Nothing for a place already reported (a broken alias).
 */
export function issueMessages(issue: z.core.$ZodIssue, base: Path, schema: z.ZodType, file: IssueSubject): IssueMessage[] {
  const rel = issue.path as (string | number)[];
  const path = [...base, ...rel];
  if (file.isBroken(path)) return [];
  switch (issue.code) {
    case 'unrecognized_keys':
      return unknownKeyMessages(issue.keys, path, keysOf(schemaAt(schema, rel)));
    case 'invalid_type': {
      const actual = file.valueAt(path);
      const hint = hintFor(path);
      return [{ path, which: 'value', message: `expected ${expectedText(issue.expected)}${hint ? ` (${hint})` : ''}, got ${describe(actual)}${typeFix(issue.expected, actual, path)}` }];
    }
    case 'invalid_union':
      return unionMessages(issue, path, unionOptions(schemaAt(schema, rel) ?? schema), file);
    default:
      return [{ path, which: 'value', message: issue.message }];
  }
}

function unknownKeyMessages(keys: readonly string[], path: Path, candidates: readonly string[]): IssueMessage[] {
  return keys.map((key) => {
    const suggestion = suggestKey(key, candidates, aliasesFor(candidates));
    const advice = suggestion
      ? `; did you mean '${suggestion}'?`
      : candidates.length > 0
        ? `; the keys allowed here are ${candidates.join(', ')}`
        : '';
    return { path: [...path, key], which: 'key', message: `unknown key '${key}'${advice}` };
  });
}

/** Follows the alternative of the same kind as the value (a map for a map), if any; else names every alternative. */
function unionMessages(issue: z.core.$ZodIssueInvalidUnion, path: Path, options: readonly z.ZodType[], file: IssueSubject): IssueMessage[] {
  const branch = issue.errors.findIndex((errs) => !errs.some((e) => e.code === 'invalid_type' && e.path.length === 0));
  if (branch >= 0 && options[branch]) {
    return issue.errors[branch]!.flatMap((sub) => issueMessages(sub, path, options[branch]!, file));
  }
  const actual = file.valueAt(path);
  const expected = issue.errors.flatMap((errs) => errs.filter((e) => e.code === 'invalid_type').map((e) => expectedText((e as { expected: string }).expected)));
  const hint = hintFor(path);
  const first = issue.errors[0]?.[0];
  const fix = first && first.code === 'invalid_type' ? typeFix(first.expected, actual, path) : '';
  return [{ path, which: 'value', message: `expected ${hint ?? expected.join(' or ')}, got ${describe(actual)}${fix}` }];
}
