/**
 * Declaration files → RawNetwork[], with every value's place (file:line:col and
 * YAML path) kept in `origins` so that later errors point at the text.
 *
 * Two formats, told apart by content:
 *
 * 1. macvlanctl.yaml: `networks: NAME: {parent, subnet, gateway, ip_range,
 *    host_address, avoid, aux_addresses, mode, host_access, persist, ipv6}`.
 *    - `host_access: {interface, address}` means host access on, with that
 *      shim interface name and shim address.
 *    - `aux_addresses: {host: IP}` is the shim's address, like `host_address`.
 *    - An IPv6 value (it contains ':') in a top-level `subnet`, `gateway`,
 *      `ip_range` or `host_address` goes to the IPv6 part, as the flags do, so
 *      `subnet: 2001:db8::/64` alone declares an IPv6 subnet. Giving the same
 *      IPv6 field there and under `ipv6:` is an error.
 *    - Keys starting with `x-` at the top level or in a network are ignored
 *      (room for YAML anchors, as in Compose); `<<` merge keys work.
 *    - A network with no settings (`lan:`) is allowed: flags may fill it in.
 *
 * 2. A Docker Compose file (a top-level `services:`, or a network with
 *    `driver:`, `driver_opts:`, `ipam:` or `external:`). Every network with
 *    `driver: macvlan` is read: `name:` (else the key), `driver_opts.parent`,
 *    `driver_opts.macvlan_mode`, and `ipam.config[]` (one IPv4 and one IPv6
 *    entry; aux address `host` is the shim's address in that entry's family).
 *    `x-macvlanctl:` on the network takes the macvlanctl.yaml vocabulary.
 *    Everything else in the file is ignored. Compose variables (`${VAR}`,
 *    `${VAR:-default}`, …) are expanded from the environment and the `.env`
 *    file beside the Compose file (compose-interpolate.ts); the network gets
 *    Compose's own name and labels (compose-project.ts).
 *
 * All problems in a file are collected and thrown as one MacvlanError
 * (CONFIG_SYNTAX for YAML syntax, CONFIG_INVALID otherwise) whose message has
 * one `FILE:LINE:COL PATH: what is wrong` line per problem and whose
 * `details.problems` lists them as data.
 *
 * This is the only module that imports `zod`, and with compose-complete.ts
 * (the --write-compose edit) the only one that imports `yaml`; the CLI loads
 * them only when a file is given.
 */
import { dirname, resolve } from 'node:path';
import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, Parser, parseDocument, visit } from 'yaml';
import { MAX_YAML_DEPTH, tooDeepAt } from './yaml-depth.js';
import { z } from 'zod';
import { MACVLAN_MODES, PERSIST_BACKENDS } from '../model/desired.js';
import { MacvlanError } from '../model/errors.js';
import { parseDotEnv } from './compose-dotenv.js';
import { InterpolationError, interpolate } from './compose-interpolate.js';
import { composeNetworkName, resolveProjectName } from './compose-project.js';
import { NETWORK_NAME_MAX, networkNameProblem } from './names.js';
import type { RawFamily, RawNetwork } from './raw.js';
import { suggestKey } from './suggest-key.js';
import { FileRefused, readRegularFile } from '../system/read-regular-file.js';

/** What a Compose file's names depend on besides its text (see src/config/compose-project.ts). */
export interface ComposeOptions {
  /** `-p/--project-name`. */
  projectName?: string;
  /** The process environment (COMPOSE_PROJECT_NAME). */
  env?: Record<string, string | undefined>;
  /** Variables of the `.env` file beside the Compose file. */
  dotEnv?: Record<string, string>;
  /** The Compose file's directory, absolute; default: the directory of fileName. */
  directory?: string;
}

export interface ConfigProblem {
  /** `FILE:LINE:COL` (1-based). */
  place: string;
  /** YAML path such as `networks.lan.ipam.config[0].subnet`; empty for the file as a whole. */
  path: string;
  message: string;
}

// ---------------------------------------------------------------------------
// Schemas (shapes and types only; values are parsed later by to-desired.ts)

const text = z.string();

const familySchema = z.strictObject({
  subnet: text.optional(),
  gateway: text.optional(),
  ip_range: text.optional(),
  host_address: text.optional(),
});

const hostAccessSchema = z.union([
  z.boolean(),
  z.strictObject({
    interface: text.optional(),
    address: text.optional(),
  }),
]);

/** One network in macvlanctl.yaml, and the contents of Compose's `x-macvlanctl:`. */
const networkSchema = z.strictObject({
  parent: text.optional(),
  subnet: text.optional(),
  gateway: text.optional(),
  ip_range: text.optional(),
  host_address: text.optional(),
  avoid: z.array(text).optional(),
  aux_addresses: z.record(z.string(), text).optional(),
  mode: text.optional(),
  host_access: hostAccessSchema.optional(),
  persist: text.optional(),
  ipv6: familySchema.optional(),
});

const macvlanctlFileSchema = z.strictObject({
  networks: z.record(z.string(), networkSchema.nullable()).nullable().optional(),
});

const ipamEntrySchema = z.strictObject({
  subnet: text.optional(),
  gateway: text.optional(),
  ip_range: text.optional(),
  aux_addresses: z.record(z.string(), text).optional(),
});

/** Compose's network keys; only the macvlan ones are checked this closely. */
const composeNetworkSchema = z.strictObject({
  name: text.optional(),
  driver: text.optional(),
  driver_opts: z
    .strictObject({
      parent: text.optional(),
      macvlan_mode: text.optional(),
    })
    .optional(),
  ipam: z
    .strictObject({
      driver: text.optional(),
      config: z.array(ipamEntrySchema).optional(),
      options: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  external: z.unknown().optional(),
  enable_ipv6: z.unknown().optional(),
  enable_ipv4: z.unknown().optional(),
  labels: z.unknown().optional(),
  attachable: z.unknown().optional(),
  internal: z.unknown().optional(),
  'x-macvlanctl': networkSchema.nullable().optional(),
});

const composeFileSchema = z.looseObject({
  networks: z.record(z.string(), z.looseObject({}).nullable()).nullable().optional(),
});

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

// ---------------------------------------------------------------------------
// YAML → plain values, with the place of every node

type Path = (string | number)[];

interface Loc {
  /** Offset of the value's text (for aliases and merges: of the anchored text). */
  pos: number;
  /** Offset of the key, for map entries. */
  keyPos?: number;
  /** An empty value (`key:` with nothing after it). */
  empty: boolean;
  /** Already reported (an unresolved alias, a loop): no further problems here. */
  broken?: boolean;
  children?: Map<string | number, Loc>;
}

interface Read {
  value: unknown;
  loc: Loc;
}

const MAX_ALIASES = 1000;

function defineKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty, not assignment: a key named __proto__ stays a plain key.
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function hasOwn(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

function isPlainMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

class TreeReader {
  private aliases = 0;

  constructor(
    private readonly doc: Document,
    private readonly report: (offset: number, path: Path, message: string) => void,
  ) {}

  read(node: unknown, path: Path, fallbackPos: number, stack: Set<unknown> = new Set()): Read {
    if (node === null || node === undefined) return { value: null, loc: { pos: fallbackPos, empty: true } };
    if (isAlias(node)) {
      const pos = node.range?.[0] ?? fallbackPos;
      const target = this.resolveAlias(node, path, pos, stack);
      if (!target) return { value: undefined, loc: { pos, empty: false, broken: true } };
      return this.read(target, path, pos, stack);
    }
    if (isScalar(node)) {
      const range = node.range;
      const pos = range?.[0] ?? fallbackPos;
      const empty = node.value === null && (range === undefined || range === null || range[0] === range[1]);
      return { value: node.value, loc: { pos, empty } };
    }
    if (isSeq(node)) {
      const pos = node.range?.[0] ?? fallbackPos;
      stack.add(node);
      const value: unknown[] = [];
      const children = new Map<string | number, Loc>();
      node.items.forEach((item, i) => {
        const r = this.read(item, [...path, i], pos, stack);
        value.push(r.value);
        children.set(i, r.loc);
      });
      stack.delete(node);
      return { value, loc: { pos, empty: false, children } };
    }
    if (isMap(node)) {
      const pos = node.range?.[0] ?? fallbackPos;
      stack.add(node);
      const value: Record<string, unknown> = {};
      const children = new Map<string | number, Loc>();
      const merges: { value: unknown; pos: number }[] = [];
      for (const pair of node.items) {
        const k = pair.key;
        const keyPos = (isScalar(k) || isAlias(k) || isMap(k) || isSeq(k) ? k.range?.[0] : undefined) ?? pos;
        if (isScalar(k) && typeof k.value === 'symbol') {
          merges.push({ value: pair.value, pos: keyPos });
          continue;
        }
        if (!isScalar(k)) {
          this.report(keyPos, path, 'a key must be plain text, not a list, a map or an alias');
          continue;
        }
        const key = k.value === null || k.value === undefined ? '' : String(k.value);
        const r = this.read(pair.value, [...path, key], keyPos, stack);
        defineKey(value, key, r.value);
        children.set(key, { ...r.loc, keyPos });
      }
      // Keys written in the map win over merged ones; earlier merge sources win over later ones.
      for (const merge of merges) {
        for (const source of this.mergeSources(merge.value, path, merge.pos, stack)) {
          const r = this.read(source, path, merge.pos, stack);
          const merged = r.value as Record<string, unknown>;
          for (const key of Object.keys(merged)) {
            if (hasOwn(value, key)) continue;
            defineKey(value, key, merged[key]);
            const loc = r.loc.children?.get(key);
            if (loc) children.set(key, loc);
          }
        }
      }
      stack.delete(node);
      return { value, loc: { pos, empty: false, children } };
    }
    this.report(fallbackPos, path, 'this YAML node is not supported here');
    return { value: undefined, loc: { pos: fallbackPos, empty: false, broken: true } };
  }

  private resolveAlias(node: { source: string; resolve(doc: Document): unknown }, path: Path, pos: number, stack: Set<unknown>): unknown {
    if (++this.aliases > MAX_ALIASES) {
      if (this.aliases === MAX_ALIASES + 1) {
        this.report(pos, path, `more than ${MAX_ALIASES} aliases are used; simplify the file`);
      }
      return undefined;
    }
    const target = node.resolve(this.doc);
    if (!target) {
      this.report(pos, path, `alias *${node.source} refers to no anchor; define &${node.source} on a value before it is used`);
      return undefined;
    }
    if (stack.has(target)) {
      this.report(pos, path, `alias *${node.source} refers to a value that contains it (a loop)`);
      return undefined;
    }
    return target;
  }

  /** The maps a `<<` merge key brings in: a map, an alias of one, or a list of those. */
  private mergeSources(value: unknown, path: Path, pos: number, stack: Set<unknown>): unknown[] {
    const one = (v: unknown, at: number): unknown[] => {
      const target = isAlias(v) ? this.resolveAlias(v, path, v.range?.[0] ?? at, stack) : v;
      if (target === undefined) return [];
      if (!isMap(target)) {
        this.report(at, path, 'a << merge key takes a map or an alias of one (<<: *name), or a list of those');
        return [];
      }
      return [target];
    };
    const direct = isAlias(value) ? this.resolveAlias(value, path, value.range?.[0] ?? pos, stack) : value;
    if (direct === undefined) return [];
    if (isSeq(direct)) return direct.items.flatMap((item) => one(item, pos));
    return one(direct, pos);
  }
}

// ---------------------------------------------------------------------------
// Places and messages

interface Problem extends ConfigProblem {
  offset: number;
}

function pathText(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z0-9_][A-Za-z0-9_-]*$/.test(seg)) out += (out ? '.' : '') + seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function describe(v: unknown): string {
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

/** Just enough of zod's internal definitions to walk a schema along a path. */
interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
  element?: z.ZodType;
  innerType?: z.ZodType;
  options?: z.ZodType[];
}

function defOf(s: z.ZodType): SchemaDef {
  return (s as unknown as { _zod: { def: SchemaDef } })._zod.def;
}

function unwrap(s: z.ZodType): z.ZodType {
  let d = defOf(s);
  while ((d.type === 'optional' || d.type === 'nullable') && d.innerType) {
    s = d.innerType;
    d = defOf(s);
  }
  return s;
}

function objectOption(s: z.ZodType): z.ZodType | undefined {
  const d = defOf(s);
  if (d.type === 'object') return s;
  if (d.type === 'union') return d.options?.map(unwrap).find((o) => defOf(o).type === 'object');
  return undefined;
}

function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let s: z.ZodType | undefined = schema;
  for (const seg of path) {
    if (!s) return undefined;
    s = unwrap(s);
    const d = defOf(s);
    if (d.type === 'record') s = d.valueType;
    else if (d.type === 'array') s = d.element;
    else {
      const obj = objectOption(s);
      s = obj ? defOf(obj).shape?.[String(seg)] : undefined;
    }
  }
  return s ? unwrap(s) : undefined;
}

function keysOf(schema: z.ZodType | undefined): string[] {
  if (!schema) return [];
  const obj = objectOption(unwrap(schema));
  return obj ? Object.keys(defOf(obj).shape ?? {}) : [];
}

class FileContext {
  readonly problems: Problem[] = [];
  rootLoc: Loc = { pos: 0, empty: true };
  rootValue: unknown = undefined;
  compose = false;

  constructor(
    readonly fileName: string,
    private readonly lines: LineCounter,
  ) {}

  placeOf(offset: number): string {
    const { line, col } = this.lines.linePos(offset);
    return `${this.fileName}:${line}:${col}`;
  }

  addAt(offset: number, path: Path, message: string): void {
    this.problems.push({ offset, place: this.placeOf(offset), path: pathText(path), message });
  }

  /** The node at `path`, or the nearest ancestor that exists. */
  private locAt(path: Path): { loc: Loc; exact: boolean; broken: boolean } {
    let loc = this.rootLoc;
    let broken = loc.broken === true;
    for (const seg of path) {
      const next = loc.children?.get(seg);
      if (!next) return { loc, exact: false, broken };
      loc = next;
      broken ||= loc.broken === true;
    }
    return { loc, exact: true, broken };
  }

  offsetOf(path: Path, which: 'value' | 'key' = 'value'): number {
    const { loc, exact } = this.locAt(path);
    if (!exact) return loc.pos;
    if (which === 'key' && loc.keyPos !== undefined) return loc.keyPos;
    return loc.empty && loc.keyPos !== undefined ? loc.keyPos : loc.pos;
  }

  hasProblemsUnder(path: Path): boolean {
    const prefix = pathText(path);
    return this.problems.some((p) => p.path === prefix || p.path.startsWith(`${prefix}.`) || p.path.startsWith(`${prefix}[`));
  }

  isBroken(path: Path): boolean {
    return this.locAt(path).broken;
  }

  add(path: Path, message: string, which: 'value' | 'key' = 'value'): void {
    this.addAt(this.offsetOf(path, which), path, message);
  }

  /** `FILE:LINE:COL networks.lan.subnet`, as stored in RawNetwork.origins. */
  originOf(path: Path, which: 'value' | 'key' = 'value'): string {
    return `${this.placeOf(this.offsetOf(path, which))} ${pathText(path)}`;
  }

  valueAt(path: Path): unknown {
    let v: unknown = this.rootValue;
    for (const seg of path) {
      if (Array.isArray(v) && typeof seg === 'number') v = v[seg];
      else if (isPlainMap(v) && typeof seg === 'string' && hasOwn(v, seg)) v = v[seg];
      else return undefined;
    }
    return v;
  }

  /** Validates `value` (found at `base`) against `schema`; each zod issue becomes a problem at its place. */
  check(schema: z.ZodType, value: unknown, base: Path): boolean {
    const result = schema.safeParse(value);
    if (result.success) return true;
    for (const issue of result.error.issues) this.issue(issue, base, schema);
    return false;
  }

  private issue(issue: z.core.$ZodIssue, base: Path, schema: z.ZodType): void {
    const rel = issue.path as (string | number)[];
    const path = [...base, ...rel];
    if (this.isBroken(path)) return;
    switch (issue.code) {
      case 'unrecognized_keys': {
        const candidates = keysOf(schemaAt(schema, rel));
        for (const key of issue.keys) {
          const suggestion = suggestKey(key, candidates, aliasesFor(candidates));
          const advice = suggestion
            ? `; did you mean '${suggestion}'?`
            : candidates.length > 0
              ? `; the keys allowed here are ${candidates.join(', ')}`
              : '';
          this.add([...path, key], `unknown key '${key}'${advice}`, 'key');
        }
        return;
      }
      case 'invalid_type': {
        const actual = this.valueAt(path);
        const hint = hintFor(path);
        this.add(path, `expected ${expectedText(issue.expected)}${hint ? ` (${hint})` : ''}, got ${describe(actual)}${typeFix(issue.expected, actual, path)}`);
        return;
      }
      case 'invalid_union': {
        // Follow the alternative of the same kind as the value (a map for a map), if any.
        const actual = this.valueAt(path);
        const options = defOf(schemaAt(schema, rel) ?? schema).options ?? [];
        const branch = issue.errors.findIndex((errs) => !errs.some((e) => e.code === 'invalid_type' && e.path.length === 0));
        if (branch >= 0 && options[branch]) {
          for (const sub of issue.errors[branch]!) this.issue(sub, path, options[branch]);
          return;
        }
        const expected = issue.errors.flatMap((errs) => errs.filter((e) => e.code === 'invalid_type').map((e) => expectedText((e as { expected: string }).expected)));
        const hint = hintFor(path);
        const first = issue.errors[0]?.[0];
        const fix = first && first.code === 'invalid_type' ? typeFix(first.expected, actual, path) : '';
        this.add(path, `expected ${hint ?? expected.join(' or ')}, got ${describe(actual)}${fix}`);
        return;
      }
      default:
        this.add(path, issue.message);
    }
  }
}

// ---------------------------------------------------------------------------
// Building RawNetwork values

type FamilyField = keyof RawFamily;

const FAMILY_KEYS: [string, FamilyField][] = [
  ['subnet', 'subnet'],
  ['gateway', 'gateway'],
  ['ip_range', 'ipRange'],
  ['host_address', 'hostAddress'],
];

/** `auto` carries no family and means IPv4, as for the flags. */
function familyOf(value: string): 4 | 6 {
  return value.includes(':') ? 6 : 4;
}

function fieldTitle(field: string): string {
  const [first, rest] = field.includes('.') ? [field.slice(0, field.indexOf('.')), field.slice(field.indexOf('.') + 1)] : [field, ''];
  if (first === 'auxAddresses') return `aux address '${rest}'`;
  const v6 = first === 'ipv6';
  const name = v6 ? rest : first;
  const family = v6 ? 'IPv6' : 'IPv4';
  const titles: Record<string, string> = {
    subnet: `the ${family} subnet`,
    gateway: `the ${family} gateway`,
    ipRange: `the ${family} ip_range`,
    hostAddress: `the shim's ${family} address (host_address, host_access.address or aux address host)`,
    parent: 'the parent interface',
    mode: 'the macvlan mode',
    hostAccess: 'host_access',
    shimInterface: 'the shim interface name',
    persist: 'persist',
    name: 'the network name',
  };
  return titles[name] ?? field;
}

class NetworkBuilder {
  readonly raw: RawNetwork;
  private readonly placed = new Map<string, Path>();

  constructor(
    private readonly ctx: FileContext,
    name: string,
    nameOrigin: string,
  ) {
    this.raw = { name, origins: { name: nameOrigin } };
  }

  private usable(value: unknown, path: Path): value is string {
    if (typeof value !== 'string') return false; // wrong types are reported by the schema
    return true; // Compose variables are already expanded (interpolateCompose)
  }

  /** Sets one field (`subnet`, `ipv6.gateway`, `auxAddresses.dns`, …); a second value for it is a problem naming both places. */
  set(field: string, value: unknown, path: Path): void {
    if (typeof value === 'boolean') {
      if (!this.claim(field, path)) return;
      if (field === 'hostAccess') this.raw.hostAccess = value;
      return;
    }
    if (!this.usable(value, path) || !this.claim(field, path)) return;
    const raw = this.raw as unknown as Record<string, unknown>;
    if (field.startsWith('ipv6.')) {
      const v6 = (this.raw.ipv6 ??= {});
      v6[field.slice(5) as FamilyField] = value;
    } else if (field.startsWith('auxAddresses.')) {
      (this.raw.auxAddresses ??= {})[field.slice('auxAddresses.'.length)] = value;
    } else {
      raw[field] = value;
    }
  }

  /** `host_address` and friends: the value's family decides between the top level and ipv6. */
  setFamilyField(field: FamilyField, value: unknown, path: Path, family?: 4 | 6): void {
    if (typeof value !== 'string') return;
    const f = family ?? familyOf(value);
    this.set(f === 6 ? `ipv6.${field}` : field, value, path);
  }

  setAvoid(list: unknown, path: Path): void {
    if (!Array.isArray(list) || !this.claim('avoid', path)) return;
    const avoid: string[] = [];
    list.forEach((item, i) => {
      if (!this.usable(item, [...path, i])) return;
      this.raw.origins[`avoid.${avoid.length}`] = this.ctx.originOf([...path, i]);
      avoid.push(item);
    });
    this.raw.avoid = avoid;
  }

  private claim(field: string, path: Path): boolean {
    const previous = this.placed.get(field);
    if (previous !== undefined) {
      // Reported at whichever of the two comes later in the file.
      const [first, second] = this.ctx.offsetOf(previous) <= this.ctx.offsetOf(path) ? [previous, path] : [path, previous];
      const fix = field.startsWith('auxAddresses.')
        ? 'aux address names must be unique within a network, also across its IPv4 and IPv6 entries: rename or remove one'
        : 'keep one';
      this.ctx.add(second, `${fieldTitle(field)} is given twice: here and at ${this.ctx.originOf(first)}; ${fix}`);
      return false;
    }
    this.placed.set(field, path);
    this.raw.origins[field] = this.ctx.originOf(path);
    return true;
  }
}

/** The macvlanctl.yaml vocabulary: a network in macvlanctl.yaml, or `x-macvlanctl:` in Compose. */
function readSettings(b: NetworkBuilder, body: Record<string, unknown>, base: Path): void {
  const at = (...p: Path): Path => [...base, ...p];
  if (body.parent !== undefined) b.set('parent', body.parent, at('parent'));
  for (const [key, field] of FAMILY_KEYS) {
    if (body[key] !== undefined) b.setFamilyField(field, body[key], at(key));
  }
  if (isPlainMap(body.ipv6)) {
    for (const [key, field] of FAMILY_KEYS) {
      if (body.ipv6[key] !== undefined) b.set(`ipv6.${field}`, body.ipv6[key], at('ipv6', key));
    }
  }
  const access = body.host_access;
  if (typeof access === 'boolean') b.set('hostAccess', access, at('host_access'));
  else if (isPlainMap(access)) {
    b.set('hostAccess', true, at('host_access'));
    if (access.interface !== undefined) b.set('shimInterface', access.interface, at('host_access', 'interface'));
    if (access.address !== undefined) b.setFamilyField('hostAddress', access.address, at('host_access', 'address'));
  }
  if (isPlainMap(body.aux_addresses)) readAux(b, body.aux_addresses, at('aux_addresses'));
  if (body.avoid !== undefined) b.setAvoid(body.avoid, at('avoid'));
  if (body.mode !== undefined) b.set('mode', body.mode, at('mode'));
  if (body.persist !== undefined) b.set('persist', body.persist, at('persist'));
}

/** Aux addresses; `host` is the shim's address (in `family`, or the value's own family). */
function readAux(b: NetworkBuilder, aux: Record<string, unknown>, base: Path, family?: 4 | 6): void {
  for (const [name, value] of Object.entries(aux)) {
    if (name === 'host') b.setFamilyField('hostAddress', value, [...base, name], family);
    else b.set(`auxAddresses.${name}`, value, [...base, name]);
  }
}

function checkName(ctx: FileContext, name: string, path: Path, which: 'value' | 'key'): boolean {
  const problem = networkNameProblem(name);
  if (!problem) return true;
  ctx.add(
    path,
    `network name '${name}' is not valid: ${problem} (Docker network names must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$; at most ${NETWORK_NAME_MAX} characters here)`,
    which,
  );
  return false;
}

function withoutKeys(obj: Record<string, unknown>, drop: (key: string) => boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) if (!drop(key)) defineKey(out, key, obj[key]);
  return out;
}

const isExtension = (key: string): boolean => key.startsWith('x-');

// ---------------------------------------------------------------------------
// The two formats

function looksLikeCompose(top: Record<string, unknown>): boolean {
  if (hasOwn(top, 'services')) return true;
  const networks = top.networks;
  if (!isPlainMap(networks)) return false;
  return Object.values(networks).some(
    (n) => isPlainMap(n) && ['driver', 'driver_opts', 'ipam', 'external'].some((k) => hasOwn(n, k)),
  );
}

function readMacvlanctl(ctx: FileContext, top: Record<string, unknown>): RawNetwork[] {
  const view = withoutKeys(top, isExtension);
  const networks = view.networks;
  if (isPlainMap(networks)) {
    const bodies: Record<string, unknown> = {};
    for (const [name, body] of Object.entries(networks)) defineKey(bodies, name, isPlainMap(body) ? withoutKeys(body, isExtension) : body);
    view.networks = bodies;
  }
  ctx.check(macvlanctlFileSchema, view, []);

  if (!hasOwn(top, 'networks')) {
    ctx.add(
      [],
      "there is no 'networks:' key; declare the networks under it, for example:\n      networks:\n        lan:\n          parent: eth0\n          subnet: 192.168.1.0/24",
    );
    return [];
  }
  if (networks === null || (isPlainMap(networks) && Object.keys(networks).length === 0 && !ctx.hasProblemsUnder(['networks']))) {
    ctx.add(['networks'], 'no network is declared; add one under networks:, for example  lan: {parent: eth0, subnet: 192.168.1.0/24}');
    return [];
  }
  if (!isPlainMap(networks) || Object.keys(networks).length === 0) return [];

  const out: RawNetwork[] = [];
  for (const [name, body] of Object.entries(networks)) {
    const path: Path = ['networks', name];
    checkName(ctx, name, path, 'key');
    const b = new NetworkBuilder(ctx, name, ctx.originOf(path, 'key'));
    if (isPlainMap(body)) readSettings(b, body, path);
    out.push(b.raw);
  }
  return out;
}

function readCompose(ctx: FileContext, top: Record<string, unknown>, options: ComposeOptions): RawNetwork[] {
  ctx.compose = true;
  ctx.check(composeFileSchema, top, []);
  const networks = isPlainMap(top.networks) ? top.networks : {};

  const found: string[] = [];
  const macvlan: [string, Record<string, unknown>][] = [];
  const external: [string, Record<string, unknown>][] = [];
  for (const [key, body] of Object.entries(networks)) {
    if (isPlainMap(body) && body.external !== undefined && body.external !== false) {
      external.push([key, body]);
      if (!externalSettings(top, key, body)) found.push(`${key} (external)`);
    }
    else if (isPlainMap(body) && body.driver === 'macvlan') macvlan.push([key, body]);
    else if (isPlainMap(body) && typeof body.driver === 'string') found.push(`${key} (${body.driver})`);
    else found.push(`${key} (default driver)`);
  }
  if (macvlan.length === 0 && !external.some(([key, body]) => externalSettings(top, key, body))) {
    ctx.add(
      ['networks'],
      `no network with driver: macvlan in ${ctx.fileName}; networks found: ${found.length > 0 ? found.join(', ') : 'none'}. ` +
        'Declare one under networks: with driver: macvlan, driver_opts: {parent: eno1} and ipam: {config: [{subnet: …}]}' +
        (external.length > 0 ? `, or give the host access to an external macvlan network with a top-level x-macvlanctl: {networks: {${external[0]![0]}: {host_access: true}}}` : ''),
    );
    return [];
  }
  const project = projectOf(ctx, top, options);
  if (project === undefined) return [];

  const out: RawNetwork[] = [];
  const names = new Map<string, string>();
  for (const [key, body] of macvlan) {
    const base: Path = ['networks', key];
    const view = withoutKeys(body, (k) => isExtension(k) && k !== 'x-macvlanctl');
    for (const k of Object.keys(body)) {
      if (isExtension(k) && k !== 'x-macvlanctl' && suggestKey(k, ['x-macvlanctl']) !== undefined) {
        ctx.add([...base, k], `unknown key '${k}'; did you mean 'x-macvlanctl'? (other x- keys are ignored)`, 'key');
      }
    }
    if (isPlainMap(body.driver_opts)) {
      // Docker's own generic options may appear on any driver.
      view.driver_opts = withoutKeys(body.driver_opts, (k) => k.startsWith('com.docker.'));
    }
    ctx.check(composeNetworkSchema, view, base);

    // Compose names the network `<project>_<key>` unless `name:` says otherwise.
    let name = composeNetworkName(project, key, undefined);
    let namePath: Path = base;
    let nameWhich: 'value' | 'key' = 'key';
    if (typeof body.name === 'string') {
      name = body.name;
      namePath = [...base, 'name'];
      nameWhich = 'value';
      checkName(ctx, name, namePath, nameWhich);
    } else checkName(ctx, name, namePath, nameWhich);
    const nameOrigin = ctx.originOf(namePath, nameWhich);
    const previous = names.get(name);
    if (previous !== undefined) {
      ctx.add(namePath, `network name '${name}' is used twice: here and at ${previous}; give each network its own name`, nameWhich);
    }
    names.set(name, nameOrigin);

    const b = new NetworkBuilder(ctx, name, nameOrigin);
    b.raw.compose = { project, key, external: false, driverOpts: stringMap(body.driver_opts), labels: labelMap(body.labels), ...(body.enable_ipv6 === true || body.enable_ipv6 === 'true' ? { enableIpv6: true } : {}) };
    const opts = body.driver_opts;
    if (isPlainMap(opts)) {
      if (opts.parent !== undefined) b.set('parent', opts.parent, [...base, 'driver_opts', 'parent']);
      if (opts.macvlan_mode !== undefined) b.set('mode', opts.macvlan_mode, [...base, 'driver_opts', 'macvlan_mode']);
    }
    const ipam = body.ipam;
    const config = isPlainMap(ipam) && Array.isArray(ipam.config) ? ipam.config : [];
    const seen = new Map<4 | 6, string>();
    config.forEach((entry, i) => {
      if (!isPlainMap(entry)) return;
      const path: Path = [...base, 'ipam', 'config', i];
      const family = ipamFamily(entry);
      const first = seen.get(family);
      if (first !== undefined) {
        ctx.add(
          path,
          `a second IPv${family} entry in ipam.config (the first is at ${first}); macvlanctl handles one subnet per address family: remove one`,
        );
        return;
      }
      seen.set(family, ctx.originOf(path));
      const prefix = family === 6 ? 'ipv6.' : '';
      for (const [k, field] of FAMILY_KEYS) {
        if (k !== 'host_address' && entry[k] !== undefined) b.set(`${prefix}${field}`, entry[k], [...path, k]);
      }
      if (isPlainMap(entry.aux_addresses)) readAux(b, entry.aux_addresses, [...path, 'aux_addresses'], family);
    });
    const own = body['x-macvlanctl'];
    if (isPlainMap(own)) readSettings(b, own, [...base, 'x-macvlanctl']);
    readStaticAddresses(ctx, b.raw, top, key);
    out.push(b.raw);
  }
  for (const [key, body] of external) {
    const raw = readExternal(ctx, top, project, key, body, names);
    readStaticAddresses(ctx, raw, top, key);
    out.push(raw);
  }
  return out;
}

/** `services.S.networks.KEY.ipv4_address` / `ipv6_address`: addresses the shim and a carved range must keep clear of. */
function readStaticAddresses(ctx: FileContext, raw: RawNetwork, top: Record<string, unknown>, key: string): void {
  if (!isPlainMap(top.services)) return;
  for (const [service, body] of Object.entries(top.services)) {
    if (!isPlainMap(body) || !isPlainMap(body.networks)) continue; // a list of names carries no addresses
    const entry = body.networks[key];
    if (!isPlainMap(entry)) continue;
    for (const field of ['ipv4_address', 'ipv6_address']) {
      const value = entry[field];
      if (value === undefined || value === null) continue;
      const path: Path = ['services', service, 'networks', key, field];
      if (typeof value !== 'string') {
        ctx.add(path, `expected an address, got ${describe(value)}`);
        continue;
      }
      const list = (raw.staticAddresses ??= []);
      raw.origins[`static.${list.length}`] = ctx.originOf(path);
      list.push({ service, address: value });
    }
  }
}

/**
 * An `external: true` network: Compose uses it by its `name:` (or the legacy
 * `external: {name: …}`), else by its key, never prefixed, and never creates it.
 * Only `x-macvlanctl:` is read (for host access to it as it exists); without it
 * the network is listed as skipped.
 */
function readExternal(ctx: FileContext, top: Record<string, unknown>, project: string, key: string, body: Record<string, unknown>, names: Map<string, string>): RawNetwork {
  const base: Path = ['networks', key];
  let name = key;
  let namePath: Path = base;
  let nameWhich: 'value' | 'key' = 'key';
  const legacy = isPlainMap(body.external) && typeof body.external.name === 'string' ? body.external.name : undefined;
  if (typeof body.name === 'string' || legacy !== undefined) {
    name = typeof body.name === 'string' ? body.name : legacy!;
    namePath = typeof body.name === 'string' ? [...base, 'name'] : [...base, 'external', 'name'];
    nameWhich = 'value';
  }
  checkName(ctx, name, namePath, nameWhich);
  const nameOrigin = ctx.originOf(namePath, nameWhich);
  const previous = names.get(name);
  if (previous !== undefined) ctx.add(namePath, `network name '${name}' is used twice: here and at ${previous}; give each network its own name`, nameWhich);
  names.set(name, nameOrigin);

  const b = new NetworkBuilder(ctx, name, nameOrigin);
  b.raw.compose = { project, key, external: true, driverOpts: {}, labels: {} };
  const settings = externalSettings(top, key, body);
  if (isPlainMap(body['x-macvlanctl']) && isPlainMap(topSettings(top)[key])) {
    ctx.add([...base, 'x-macvlanctl'], `settings for ${key} are given here and under the top-level x-macvlanctl.networks.${key}; keep one`, 'key');
  }
  if (settings) {
    ctx.check(networkSchema, settings.body, settings.path);
    readSettings(b, settings.body, settings.path);
  } else {
    b.raw.compose.skipped = `it is external: true, so Compose uses it as it exists and macvlanctl neither creates nor changes it; add a top-level x-macvlanctl: {networks: {${key}: {host_access: true}}} to give the host access to its containers`;
  }
  return b.raw;
}

/** The top-level `x-macvlanctl: {networks: {KEY: settings}}`. */
function topSettings(top: Record<string, unknown>): Record<string, unknown> {
  const own = top['x-macvlanctl'];
  return isPlainMap(own) && isPlainMap(own.networks) ? own.networks : {};
}

/**
 * macvlanctl's settings for an external network: under the network itself
 * (Compose v2 accepts x- keys there), or under the top-level
 * `x-macvlanctl.networks.KEY`, the only place Compose 1.29 allows (it refuses
 * any key besides `external` on an external network).
 */
function externalSettings(top: Record<string, unknown>, key: string, body: Record<string, unknown>): { body: Record<string, unknown>; path: Path } | undefined {
  const own = body['x-macvlanctl'];
  if (isPlainMap(own)) return { body: own, path: ['networks', key, 'x-macvlanctl'] };
  const fromTop = topSettings(top)[key];
  if (isPlainMap(fromTop)) return { body: fromTop, path: ['x-macvlanctl', 'networks', key] };
  return undefined;
}

/** The project name in Compose's order (src/config/compose-project.ts); a problem at its place when it is not usable. */
function projectOf(ctx: FileContext, top: Record<string, unknown>, options: ComposeOptions): string | undefined {
  const fileName = typeof top.name === 'string' ? top.name : undefined;
  if (ctx.hasProblemsUnder(['name'])) return undefined; // a variable in it could not be expanded
  try {
    return resolveProjectName({
      ...(options.projectName !== undefined ? { flag: options.projectName } : {}),
      ...(options.env?.COMPOSE_PROJECT_NAME ? { env: options.env.COMPOSE_PROJECT_NAME } : {}),
      ...(options.dotEnv?.COMPOSE_PROJECT_NAME ? { dotEnv: options.dotEnv.COMPOSE_PROJECT_NAME } : {}),
      ...(fileName !== undefined ? { fileName: { value: fileName, origin: ctx.originOf(['name']) } } : {}),
      directory: options.directory ?? dirname(resolve(ctx.fileName)),
    }).name;
  } catch (e) {
    if (!(e instanceof MacvlanError) || fileName === undefined || options.projectName !== undefined || options.env?.COMPOSE_PROJECT_NAME || options.dotEnv?.COMPOSE_PROJECT_NAME) throw e;
    ctx.add(['name'], e.message.slice(e.message.indexOf(': ') + 2));
    return undefined;
  }
}

/** `driver_opts` as Docker receives them: every value as text. */
function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isPlainMap(v)) return out;
  for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined && typeof x !== 'object') defineKey(out, k, String(x));
  return out;
}

/** Compose `labels:`: a map, or a list of `key=value`. */
function labelMap(v: unknown): Record<string, string> {
  if (!Array.isArray(v)) return stringMap(v);
  const out: Record<string, string> = {};
  for (const item of v) {
    if (typeof item !== 'string') continue;
    const eq = item.indexOf('=');
    defineKey(out, eq < 0 ? item : item.slice(0, eq), eq < 0 ? '' : item.slice(eq + 1));
  }
  return out;
}

/**
 * Expands Compose variables (src/config/compose-interpolate.ts) in place, in
 * the parts macvlanctl reads: the project `name:`, `networks:`, the top-level
 * `x-macvlanctl:` and each service's `networks:`. The environment wins over the
 * `.env` file, as in Compose. A variable that is missing is a problem at its place.
 */
function interpolateCompose(ctx: FileContext, top: Record<string, unknown>, options: ComposeOptions): void {
  // Own keys only: process.env inherits Object's methods (`${constructor}` must be unset, not a function).
  const own = (vars: Record<string, string | undefined> | undefined, name: string) => (vars && hasOwn(vars, name) ? vars[name] : undefined);
  const lookup = (name: string): string | undefined => own(options.env, name) ?? own(options.dotEnv, name);
  const walk = (holder: Record<string, unknown> | unknown[], key: string | number, path: Path): void => {
    const v = (holder as Record<string | number, unknown>)[key];
    if (typeof v === 'string') {
      if (!v.includes('$')) return;
      try {
        (holder as Record<string | number, unknown>)[key] = interpolate(v, lookup);
      } catch (e) {
        if (!(e instanceof InterpolationError)) throw e;
        ctx.add(path, `'${v}': ${e.message}`);
      }
    } else if (Array.isArray(v)) v.forEach((_x, i) => walk(v, i, [...path, i]));
    else if (isPlainMap(v)) for (const k of Object.keys(v)) walk(v, k, [...path, k]);
  };
  for (const k of ['name', 'networks', 'x-macvlanctl']) if (hasOwn(top, k)) walk(top, k, [k]);
  if (isPlainMap(top.services)) {
    for (const [name, service] of Object.entries(top.services)) {
      if (isPlainMap(service) && hasOwn(service, 'networks')) walk(service, 'networks', ['services', name, 'networks']);
    }
  }
}

/** An ipam.config entry's family: from its subnet, else any of its addresses; IPv4 when it has none. */
function ipamFamily(entry: Record<string, unknown>): 4 | 6 {
  for (const key of ['subnet', 'gateway', 'ip_range']) {
    const v = entry[key];
    if (typeof v === 'string') return familyOf(v);
  }
  if (isPlainMap(entry.aux_addresses)) {
    for (const v of Object.values(entry.aux_addresses)) if (typeof v === 'string' && v.includes(':')) return 6;
  }
  return 4;
}

// ---------------------------------------------------------------------------
// Entry points

const SYNTAX_REASONS: Record<string, string> = {
  MULTIPLE_DOCS: 'the file holds more than one YAML document (a second ---); put everything in one document',
  DUPLICATE_KEY: 'this key appears twice in the same map; YAML keys must be unique, so keep one',
  TAB_AS_INDENT: 'a tab is used for indentation; YAML allows only spaces there',
};

/** Where an unclosed quoted scalar that runs to `end` starts (yaml reports the end). */
function openingQuote(doc: Document, end: number): number | undefined {
  let start: number | undefined;
  visit(doc, {
    Scalar(_key, node) {
      if ((node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') && node.range?.[1] === end) {
        start = node.range[0];
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return start;
}

function failWith(code: 'CONFIG_SYNTAX' | 'CONFIG_INVALID', fileName: string, problems: Problem[]): never {
  const sorted = [...problems].sort((a, b) => a.offset - b.offset);
  const lines = sorted.map((p) => `${p.place}${p.path ? ` ${p.path}` : ''}: ${p.message}`);
  const message = lines.length === 1 ? lines[0]! : `${fileName}: ${lines.length} problems:\n${lines.map((l) => `  ${l}`).join('\n')}`;
  throw new MacvlanError(code, message, {
    file: fileName,
    problems: sorted.map(({ place, path, message: m }) => ({ place, path, message: m })),
  });
}

/**
 * Parses a macvlanctl.yaml or Docker Compose file's text into one RawNetwork
 * per declared network, in file order. `fileName` is used only in places and
 * origins. Throws MacvlanError (CONFIG_SYNTAX or CONFIG_INVALID) listing every
 * problem found.
 */
export function parseConfigFile(fileName: string, text: string, options: ComposeOptions = {}): RawNetwork[] {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const lines = new LineCounter();
  const deep = tooDeepAt(source);
  if (deep !== undefined) {
    // Counted before the recursive parts run: they would overflow the stack.
    for (const _ of new Parser(lines.addNewLine).parse(source)); // fills the line counter for the place
    const ctx = new FileContext(fileName, lines);
    ctx.addAt(deep, [], `the YAML nests more than ${MAX_YAML_DEPTH} levels deep here; a declaration needs fewer than 10, so this is not one (check the brackets and the indentation)`);
    failWith('CONFIG_INVALID', fileName, ctx.problems);
  }
  const doc = parseDocument(source, { lineCounter: lines, merge: true, prettyErrors: false, uniqueKeys: true });
  const ctx = new FileContext(fileName, lines);

  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      const opening = err.code === 'MISSING_CHAR' && /quote/.test(err.message) ? openingQuote(doc, err.pos[0]) : undefined;
      if (opening !== undefined) {
        ctx.addAt(opening, [], `YAML syntax error: the quote opened here is never closed (${err.message})`);
        continue;
      }
      const reason = SYNTAX_REASONS[err.code] ?? err.message;
      ctx.addAt(err.pos[0], [], `YAML syntax error: ${reason}`);
    }
    failWith('CONFIG_SYNTAX', fileName, ctx.problems);
  }

  const example = 'for example\n      networks:\n        lan:\n          parent: eth0\n          subnet: 192.168.1.0/24';
  if (doc.contents === null) {
    ctx.addAt(0, [], `the file is empty; declare the networks in it, ${example}`);
    failWith('CONFIG_INVALID', fileName, ctx.problems);
  }

  const reader = new TreeReader(doc, (offset, path, message) => ctx.addAt(offset, path, message));
  let read: ReturnType<TreeReader['read']>;
  try {
    read = reader.read(doc.contents, [], 0);
  } catch (e) {
    // Aliases can nest a tree deeper than its text (the text itself was bounded above).
    if (!(e instanceof RangeError)) throw e;
    ctx.addAt(0, [], `the YAML nests too deeply through its aliases (*name) to be read; a declaration needs fewer than 10 levels`);
    failWith('CONFIG_INVALID', fileName, ctx.problems);
  }
  const { value, loc } = read;
  ctx.rootLoc = loc;
  ctx.rootValue = value;
  if (!isPlainMap(value)) {
    if (!loc.broken) {
      ctx.addAt(loc.pos, [], `the top level of the file must be a map with a networks: key, but it is ${describe(value)}; ${example}`);
    }
    failWith('CONFIG_INVALID', fileName, ctx.problems);
  }

  const compose = looksLikeCompose(value);
  if (compose) interpolateCompose(ctx, value, options);
  const networks = compose ? readCompose(ctx, value, options) : readMacvlanctl(ctx, value);
  if (ctx.problems.length > 0) failWith('CONFIG_INVALID', fileName, ctx.problems);
  return networks;
}

/**
 * The largest declaration file read. A macvlanctl.yaml or Compose file is a
 * few kilobytes; a megabyte is far beyond any real one, and the cap keeps a
 * wrong -f (a device, a huge log) from eating memory and time.
 */
export const CONFIG_FILE_MAX_BYTES = 1024 * 1024;

const REFUSED_KIND_FIX: Record<string, string> = {
  directory: 'give the path of a macvlanctl.yaml or Compose file',
  'FIFO (named pipe)': 'macvlanctl reads only regular files; save the declaration to a file and give its path',
};

/** Reads a declaration file and parses it (see parseConfigFile). */
export async function readConfigFile(path: string, options: Omit<ComposeOptions, 'dotEnv' | 'directory'> = {}): Promise<RawNetwork[]> {
  let text: string;
  try {
    text = await readRegularFile(path, CONFIG_FILE_MAX_BYTES);
  } catch (e) {
    if (e instanceof FileRefused) {
      const reason =
        'kind' in e.why
          ? `it is a ${e.why.kind}, not a regular file; ${REFUSED_KIND_FIX[e.why.kind] ?? 'give the path of a macvlanctl.yaml or Compose file'}`
          : `it is larger than ${e.why.tooLarge / 1024 / 1024} MiB, which no macvlanctl.yaml or Compose file is; check the path given with -f`;
      throw new MacvlanError('CONFIG_INVALID', `cannot read ${path}: ${reason}`, { file: path, ...('kind' in e.why ? { fileType: e.why.kind } : { maxBytes: e.why.tooLarge }) });
    }
    const code = (e as NodeJS.ErrnoException).code;
    const why: Record<string, string> = {
      ENOENT: 'there is no such file; check the path given with -f',
      ENOTDIR: 'a part of the path is not a directory; check the path given with -f',
      EACCES: 'permission denied; make the file readable for this user or run as a user who can read it',
      EPERM: 'permission denied; make the file readable for this user or run as a user who can read it',
      EISDIR: 'it is a directory; give the path of a macvlanctl.yaml or Compose file',
      ENXIO: 'it is a socket or a device with nothing behind it, not a regular file; give the path of a macvlanctl.yaml or Compose file',
    };
    const reason = (code && why[code]) ?? (e instanceof Error ? e.message : String(e));
    throw new MacvlanError('CONFIG_INVALID', `cannot read ${path}: ${reason}`, { file: path, errno: code }, { cause: e });
  }
  const directory = dirname(resolve(path));
  const dotEnv = await readDotEnv(directory).catch((e: unknown) => e as Error);
  if (!(dotEnv instanceof Error)) return parseConfigFile(path, text, { ...options, directory, dotEnv });
  // A .env file Compose cannot read matters only to a Compose file.
  const networks = parseConfigFile(path, text, { ...options, directory });
  if (networks.some((n) => n.compose)) throw dotEnv;
  return networks;
}

/** The `.env` file beside a Compose file (Compose reads it from the project directory); none is fine. */
async function readDotEnv(directory: string): Promise<Record<string, string>> {
  const path = resolve(directory, '.env');
  let text: string;
  try {
    // Bounded like the file itself: a FIFO or a device named .env must not block or fill memory.
    text = await readRegularFile(path, CONFIG_FILE_MAX_BYTES);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return {};
    if (e instanceof FileRefused && 'kind' in e.why && e.why.kind === 'directory') return {};
    throw new MacvlanError('CONFIG_INVALID', `cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`, { file: path, errno: code }, { cause: e });
  }
  return parseDotEnv(path, text);
}
