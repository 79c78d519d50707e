/**
 * Command-line flags → RawNetwork. The flags mirror `docker network create`:
 * --subnet, --gateway, --ip-range and --host-address may be given once per
 * address family (an IPv6 value goes to the network's IPv6 part).
 */
import { MacvlanError } from '../model/errors.js';
import { looksLikeFamily } from '../net/address.js';
import type { RawFamily, RawNetwork } from './raw.js';

export interface NetworkFlags {
  parent?: string;
  subnet?: string[];
  gateway?: string[];
  ipRange?: string[];
  auxAddress?: string[];
  avoid?: string[];
  mode?: string;
  hostAccess?: boolean;
  shim?: string;
  hostAddress?: string[];
  persist?: string;
}

type FamilyField = 'subnet' | 'gateway' | 'ipRange' | 'hostAddress';

const FLAG_OF: Record<FamilyField, string> = {
  subnet: '--subnet',
  gateway: '--gateway',
  ipRange: '--ip-range',
  hostAddress: '--host-address',
};

function usage(message: string, details: Record<string, unknown> = {}): MacvlanError {
  return new MacvlanError('USAGE', message, details);
}

/** `auto` values carry no family; they apply to IPv4. */
function familyOfValue(v: string): 4 | 6 {
  return v.trim().startsWith('auto') ? 4 : looksLikeFamily(v);
}

export function flagsToRaw(name: string, flags: NetworkFlags): RawNetwork {
  const raw: RawNetwork = { name, origins: {} };
  readFamilyFlags(raw, flags);
  if (flags.auxAddress && flags.auxAddress.length > 0) readAuxAddresses(raw, flags.auxAddress);
  if (flags.avoid && flags.avoid.length > 0) {
    raw.avoid = [...flags.avoid];
    raw.origins.avoid = '--avoid';
    flags.avoid.forEach((v, i) => (raw.origins[`avoid.${i}`] = `--avoid ${v}`));
  }
  readSingleFlags(raw, flags);
  raw.origins.name = 'network name';
  return raw;
}

/** --subnet, --gateway, --ip-range, --host-address: at most one value per address family; IPv6 ones go to raw.ipv6. */
function readFamilyFlags(raw: RawNetwork, flags: NetworkFlags): void {
  const v6: RawFamily = {};
  for (const field of Object.keys(FLAG_OF) as FamilyField[]) {
    const values = flags[field] ?? [];
    const seen = new Set<4 | 6>();
    for (const value of values) {
      const family = familyOfValue(value);
      if (seen.has(family)) {
        throw usage(`${FLAG_OF[field]} was given twice for IPv${family} ('${values.join("', '")}'); give it at most once per address family`, {
          flag: FLAG_OF[field],
        });
      }
      seen.add(family);
      const label = family === 6 ? `${FLAG_OF[field]} ${value}` : FLAG_OF[field];
      if (family === 4) raw[field] = value;
      else v6[field] = value;
      raw.origins[family === 4 ? field : `ipv6.${field}`] = label;
    }
  }
  if (Object.keys(v6).length > 0) raw.ipv6 = v6;
}

/** --aux-address NAME=IP; `host=IP` is the shim's address in that IP's family. */
function readAuxAddresses(raw: RawNetwork, entries: string[]): void {
  const aux: Record<string, string> = {};
  raw.origins.auxAddresses = '--aux-address';
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0 || eq === entry.length - 1) {
      throw usage(`--aux-address '${entry}' must be NAME=IP, for example --aux-address dns=198.51.100.53`, { value: entry });
    }
    const auxName = entry.slice(0, eq).trim();
    const address = entry.slice(eq + 1).trim();
    if (auxName === 'host') {
      setHostAddress(raw, address, entry);
      continue;
    }
    if (aux[auxName] !== undefined) {
      throw usage(`--aux-address ${auxName} was given twice ('${aux[auxName]}' and '${address}'); each name may appear once`, {
        name: auxName,
      });
    }
    aux[auxName] = address;
    raw.origins[`auxAddresses.${auxName}`] = `--aux-address ${auxName}=${address}`;
  }
  raw.auxAddresses = aux;
}

/** Docker's aux name `host` is, by our convention, the shim's address. */
function setHostAddress(raw: RawNetwork, address: string, entry: string): void {
  const family = looksLikeFamily(address);
  const target: RawFamily = family === 4 ? raw : (raw.ipv6 ??= {});
  const key = family === 4 ? 'hostAddress' : 'ipv6.hostAddress';
  if (target.hostAddress !== undefined) {
    throw usage(`the shim address for IPv${family} was given twice (--host-address and --aux-address host=…); give it once`, {
      value: entry,
    });
  }
  target.hostAddress = address;
  raw.origins[key] = `--aux-address host=${address}`;
}

const SINGLE_FLAGS: [keyof NetworkFlags, keyof RawNetwork, string][] = [
  ['parent', 'parent', '--parent'],
  ['mode', 'mode', '--mode'],
  ['shim', 'shimInterface', '--shim'],
  ['persist', 'persist', '--persist'],
];

/** The flags given once: --parent, --mode, --shim, --persist, --[no-]host-access. */
function readSingleFlags(raw: RawNetwork, flags: NetworkFlags): void {
  for (const [flag, field, label] of SINGLE_FLAGS) {
    const value = flags[flag];
    if (typeof value === 'string') {
      (raw as unknown as Record<string, unknown>)[field] = value;
      raw.origins[field] = label;
    }
  }
  if (flags.hostAccess !== undefined) {
    raw.hostAccess = flags.hostAccess;
    raw.origins.hostAccess = flags.hostAccess ? '--host-access' : '--no-host-access';
  }
}
