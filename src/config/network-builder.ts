/**
 * Builds one RawNetwork from a file's values, recording each field's origin
 * and reporting a field given twice (naming both places). readSettings reads
 * the macvlanctl.yaml vocabulary, shared by both formats: a network in
 * macvlanctl.yaml, and `x-macvlanctl:` in a Compose file.
 */
import type { FileContext } from './file-problems.js';
import { NETWORK_NAME_MAX, networkNameProblem } from './names.js';
import { isPlainMap } from './plain-map.js';
import type { RawFamily, RawNetwork } from './raw.js';
import type { Path } from './yaml-tree.js';

export type FamilyField = keyof RawFamily;

/** File keys of one address family's settings, with their RawFamily field. */
export const FAMILY_KEYS: [string, FamilyField][] = [
  ['subnet', 'subnet'],
  ['gateway', 'gateway'],
  ['ip_range', 'ipRange'],
  ['host_address', 'hostAddress'],
];

/** `auto` carries no family and means IPv4, as for the flags. */
export function familyOf(value: string): 4 | 6 {
  return value.includes(':') ? 6 : 4;
}

/** Keys starting with `x-` are ignored (room for YAML anchors, as in Compose). */
export const isExtension = (key: string): boolean => key.startsWith('x-');

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

export class NetworkBuilder {
  readonly raw: RawNetwork;
  private readonly placed = new Map<string, Path>();

  constructor(
    private readonly ctx: FileContext,
    name: string,
    nameOrigin: string,
  ) {
    this.raw = { name, origins: { name: nameOrigin } };
  }

  /**
   * Sets one field (`subnet`, `ipv6.gateway`, `auxAddresses.dns`, …); a second value for it is a problem naming both places.
   * Values of a wrong type are skipped: the schema reports them. (Compose variables are already expanded.)
   */
  set(field: string, value: unknown, path: Path): void {
    if (typeof value === 'boolean') {
      if (!this.claim(field, path)) return;
      if (field === 'hostAccess') this.raw.hostAccess = value;
      return;
    }
    if (typeof value !== 'string' || !this.claim(field, path)) return;
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
      if (typeof item !== 'string') return;
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
export function readSettings(b: NetworkBuilder, body: Record<string, unknown>, base: Path): void {
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
  readHostAccess(b, body.host_access, at('host_access'));
  if (isPlainMap(body.aux_addresses)) readAux(b, body.aux_addresses, at('aux_addresses'));
  if (body.avoid !== undefined) b.setAvoid(body.avoid, at('avoid'));
  if (body.mode !== undefined) b.set('mode', body.mode, at('mode'));
  if (body.persist !== undefined) b.set('persist', body.persist, at('persist'));
}

/** `host_access: true|false`, or `{interface, address}`, which also means on. */
function readHostAccess(b: NetworkBuilder, access: unknown, path: Path): void {
  if (typeof access === 'boolean') b.set('hostAccess', access, path);
  else if (isPlainMap(access)) {
    b.set('hostAccess', true, path);
    if (access.interface !== undefined) b.set('shimInterface', access.interface, [...path, 'interface']);
    if (access.address !== undefined) b.setFamilyField('hostAddress', access.address, [...path, 'address']);
  }
}

/** Aux addresses; `host` is the shim's address (in `family`, or the value's own family). */
export function readAux(b: NetworkBuilder, aux: Record<string, unknown>, base: Path, family?: 4 | 6): void {
  for (const [name, value] of Object.entries(aux)) {
    if (name === 'host') b.setFamilyField('hostAddress', value, [...base, name], family);
    else b.set(`auxAddresses.${name}`, value, [...base, name]);
  }
}

/** A problem at `path` when `name` cannot be a Docker network name. */
export function checkName(ctx: FileContext, name: string, path: Path, which: 'value' | 'key'): boolean {
  const problem = networkNameProblem(name);
  if (!problem) return true;
  ctx.add(
    path,
    `network name '${name}' is not valid: ${problem} (Docker network names must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$; at most ${NETWORK_NAME_MAX} characters here)`,
    which,
  );
  return false;
}

/**
 * Claims a Docker network name for one network of the file (`names`: the
 * names claimed so far, with their origins): a problem when it is not valid or
 * already used. Returns the name's origin.
 */
export function claimName(ctx: FileContext, names: Map<string, string>, name: string, path: Path, which: 'value' | 'key'): string {
  checkName(ctx, name, path, which);
  const origin = ctx.originOf(path, which);
  const previous = names.get(name);
  if (previous !== undefined) ctx.add(path, `network name '${name}' is used twice: here and at ${previous}; give each network its own name`, which);
  names.set(name, origin);
  return origin;
}
