/**
 * RawNetwork (text) → DesiredNetwork (parsed). Every value is parsed with its
 * origin as the label, so an error says where the bad value came from. All
 * problems are collected and reported together.
 */
import { type Family, type IpAddress, looksLikeFamily, parseAddress, parseCidr } from '../net/address.js';
import { parseRange } from '../net/range.js';
import {
  type AddressRange,
  type AuxAddress,
  type DesiredFamily,
  type DesiredNetwork,
  type IpRangeSpec,
  MACVLAN_MODES,
  PERSIST_BACKENDS,
  type StaticAddress,
} from '../model/desired.js';
import { AggregateMacvlanError, MacvlanError } from '../model/errors.js';
import { ProblemCollector } from '../model/collector.js';
import { checkInterfaceName, checkNetworkName, checkNewInterfaceName } from './names.js';
import { originLabel } from './origins.js';
import { escapeInvisible, shownName } from './shown-name.js';
import type { RawFamily, RawNetwork } from './raw.js';

const AUX_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function fail(field: string, message: string, value?: string): never {
  throw new MacvlanError('CONFIG_INVALID', `${field}: ${message}`, { field, ...(value !== undefined ? { value } : {}) });
}

function familyName(f: Family): string {
  return f === 4 ? 'IPv4' : 'IPv6';
}

function expectFamily(text: string, want: Family, label: string): void {
  const got = looksLikeFamily(text);
  if (got !== want) {
    fail(
      label,
      `'${text}' is an ${familyName(got)} value in an ${familyName(want)} field; ${
        want === 4 ? 'put IPv6 settings under ipv6: (or pass them with the IPv6 flags)' : 'IPv4 settings belong at the top level'
      }`,
      text,
    );
  }
}

export function parseIpRangeSpec(text: string, family: Family, label: string): IpRangeSpec {
  const t = text.trim();
  const auto = /^auto(?:\/(\d{1,3}))?$/.exec(t);
  if (auto) {
    if (auto[1] === undefined) return { kind: 'auto' };
    const prefix = Number(auto[1]);
    const max = family === 4 ? 32 : 128;
    if (prefix < 1 || prefix > max) fail(label, `'${t}': the block size /${prefix} must be between /1 and /${max}`, t);
    return { kind: 'auto', prefix };
  }
  if (t.startsWith('auto')) fail(label, `'${t}' is not understood; write 'auto', 'auto/N' (for example auto/27) or a CIDR`, t);
  expectFamily(t, family, label);
  return { kind: 'explicit', cidr: parseCidr(t, label) };
}

function parseFamily(raw: RawFamily, family: Family, origin: (k: string) => string, prefix: string, c: ProblemCollector): DesiredFamily {
  const out: DesiredFamily = {};
  const key = (k: string) => (prefix ? `${prefix}.${k}` : k);
  if (raw.subnet !== undefined) {
    out.subnet = c.run(() => {
      expectFamily(raw.subnet!, family, origin(key('subnet')));
      return parseCidr(raw.subnet!, origin(key('subnet')));
    });
  }
  if (raw.gateway !== undefined) {
    out.gateway = c.run(() => {
      expectFamily(raw.gateway!, family, origin(key('gateway')));
      return parseAddress(raw.gateway!, origin(key('gateway')));
    });
  }
  if (raw.ipRange !== undefined) {
    out.ipRange = c.run(() => parseIpRangeSpec(raw.ipRange!, family, origin(key('ipRange'))));
  }
  if (raw.hostAddress !== undefined) {
    out.hostAddress = c.run((): IpAddress | 'auto' => {
      if (raw.hostAddress!.trim() === 'auto') return 'auto';
      expectFamily(raw.hostAddress!, family, origin(key('hostAddress')));
      return parseAddress(raw.hostAddress!, origin(key('hostAddress')));
    });
  }
  return out;
}

export function toDesired(raw: RawNetwork): DesiredNetwork {
  const c = new ProblemCollector();
  const origin = (k: string): string => originLabel(raw.origins, k);

  const name = c.run(() => checkNetworkName(raw.name, origin('name'))) ?? raw.name;
  const parent = raw.parent === undefined ? undefined : c.run(() => checkInterfaceName(raw.parent!, origin('parent')));
  const shimInterface =
    raw.shimInterface === undefined ? undefined : c.run(() => checkNewInterfaceName(raw.shimInterface!, origin('shimInterface')));
  const mode = oneOf(c, raw.mode, MACVLAN_MODES, 'bridge', 'macvlan mode', origin('mode'));
  const persist = oneOf(c, raw.persist, PERSIST_BACKENDS, 'auto', 'persist backend', origin('persist'));
  const ipv4 = parseFamily(raw, 4, origin, '', c);
  const ipv6 = raw.ipv6 ? parseFamily(raw.ipv6, 6, origin, 'ipv6', c) : undefined;
  const auxAddresses = parseAuxAddresses(raw.auxAddresses ?? {}, origin, c);
  const avoid = parseAvoid(raw.avoid ?? [], origin, c);
  const staticAddresses = parseStaticAddresses(raw.staticAddresses ?? [], origin, c);
  throwProblems(c, raw.name);

  const desired: DesiredNetwork = {
    name,
    mode,
    ipv4,
    auxAddresses,
    avoid,
    hostAccess: raw.hostAccess ?? true,
    persist,
    origins: Object.fromEntries(Object.keys(raw.origins).map((k) => [k, raw.origins[k]!])),
  };
  if (parent !== undefined) desired.parent = parent;
  if (shimInterface !== undefined) desired.shimInterface = shimInterface;
  if (ipv6) desired.ipv6 = ipv6;
  if (raw.compose) desired.compose = raw.compose;
  if (staticAddresses.length > 0) desired.staticAddresses = staticAddresses;
  return desired;
}

/** A value from a fixed list (`what` names the list in the message); `fallback` when not given or not valid. */
function oneOf<T extends string>(c: ProblemCollector, value: string | undefined, choices: readonly T[], fallback: T, what: string, label: string): T {
  if (value === undefined) return fallback;
  return (
    c.run(() => {
      if (!(choices as readonly string[]).includes(value)) fail(label, `unknown ${what} ${shownName(value)}; choose one of ${choices.join(', ')}`, value);
      return value as T;
    }) ?? fallback
  );
}

function parseAuxAddresses(aux: Record<string, string>, origin: (k: string) => string, c: ProblemCollector): AuxAddress[] {
  const out: AuxAddress[] = [];
  for (const [auxName, text] of Object.entries(aux)) {
    const label = origin(`auxAddresses.${auxName}`);
    c.run(() => {
      if (!AUX_NAME.test(auxName)) fail(label, `aux address name ${shownName(auxName)} is not valid: use letters, digits, _ . -`, auxName);
      if (auxName === 'host') fail(label, "the aux address name 'host' is reserved for the shim's address; use --host-address", auxName);
      out.push({ name: auxName, address: parseAddress(text, label) });
    });
  }
  return out;
}

function parseAvoid(texts: readonly string[], origin: (k: string) => string, c: ProblemCollector): AddressRange[] {
  const out: AddressRange[] = [];
  texts.forEach((text, i) => {
    const label = origin(`avoid.${i}`);
    c.run(() => {
      const r = parseRange(text, label);
      out.push({ family: r.family, interval: r.interval, text });
    });
  });
  return out;
}

function parseStaticAddresses(list: readonly { service: string; address: string }[], origin: (k: string) => string, c: ProblemCollector): StaticAddress[] {
  const out: StaticAddress[] = [];
  list.forEach((s, i) => {
    const label = origin(`static.${i}`);
    c.run(() => out.push({ service: s.service, address: parseAddress(s.address, label), origin: label }));
  });
  return out;
}

/** One problem is thrown as it is; several together, the first one's code standing for all. */
function throwProblems(c: ProblemCollector, networkName: string): void {
  if (c.errors.length === 1) throw c.errors[0]!;
  if (c.errors.length > 1) {
    throw new AggregateMacvlanError(c.errors[0]!.code, `network ${escapeInvisible(networkName)}: ${c.errors.length} problems in the declaration:`, c.errors);
  }
}
