/**
 * A Docker Compose file → RawNetwork[]. Every network with `driver: macvlan`
 * is read: `name:` (else Compose's `<project>_<key>`), `driver_opts.parent`,
 * `driver_opts.macvlan_mode`, and `ipam.config[]` (one IPv4 and one IPv6
 * entry; aux address `host` is the shim's address in that entry's family).
 * `x-macvlanctl:` on the network takes the macvlanctl.yaml vocabulary.
 * External networks are read by compose-external.ts. Everything else in the
 * file is ignored. Compose variables are expanded first (compose-variables.ts);
 * the network gets Compose's own name and labels (compose-project.ts).
 */
import { dirname, resolve } from 'node:path';
import { MacvlanError } from '../model/errors.js';
import { externalSettings, readExternal } from './compose-external.js';
import { composeNetworkName, resolveProjectName } from './compose-project.js';
import { interpolateCompose } from './compose-variables.js';
import { describe } from './file-messages.js';
import type { FileContext } from './file-problems.js';
import { composeFileSchema, composeNetworkSchema } from './file-schema.js';
import { FAMILY_KEYS, NetworkBuilder, claimName, familyOf, isExtension, readAux, readSettings } from './network-builder.js';
import { defineKey, hasOwn, isPlainMap, withoutKeys } from './plain-map.js';
import type { RawNetwork } from './raw.js';
import { suggestKey } from './suggest-key.js';
import type { Path } from './yaml-tree.js';

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

type NetworkEntry = [key: string, body: Record<string, unknown>];

/** A top-level `services:`, or a network with a key only Compose has. */
export function looksLikeCompose(top: Record<string, unknown>): boolean {
  if (hasOwn(top, 'services')) return true;
  const networks = top.networks;
  if (!isPlainMap(networks)) return false;
  return Object.values(networks).some(
    (n) => isPlainMap(n) && ['driver', 'driver_opts', 'ipam', 'external'].some((k) => hasOwn(n, k)),
  );
}

export function readCompose(ctx: FileContext, top: Record<string, unknown>, options: ComposeOptions): RawNetwork[] {
  interpolateCompose(ctx, top, options);
  ctx.check(composeFileSchema, top, []);
  const { macvlan, external, found } = sortNetworks(top);
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
    const raw = readMacvlanNetwork(ctx, project, key, body, names);
    readStaticAddresses(ctx, raw, top, key);
    out.push(raw);
  }
  for (const [key, body] of external) {
    const raw = readExternal(ctx, top, project, key, body, names);
    readStaticAddresses(ctx, raw, top, key);
    out.push(raw);
  }
  return out;
}

/** The macvlan and external networks, and a list of every network that is neither, for the message when none is usable. */
function sortNetworks(top: Record<string, unknown>): { macvlan: NetworkEntry[]; external: NetworkEntry[]; found: string[] } {
  const networks = isPlainMap(top.networks) ? top.networks : {};
  const found: string[] = [];
  const macvlan: NetworkEntry[] = [];
  const external: NetworkEntry[] = [];
  for (const [key, body] of Object.entries(networks)) {
    if (isPlainMap(body) && body.external !== undefined && body.external !== false) {
      external.push([key, body]);
      if (!externalSettings(top, key, body)) found.push(`${key} (external)`);
    } else if (isPlainMap(body) && body.driver === 'macvlan') macvlan.push([key, body]);
    else if (isPlainMap(body) && typeof body.driver === 'string') found.push(`${key} (${body.driver})`);
    else found.push(`${key} (default driver)`);
  }
  return { macvlan, external, found };
}

/** One `driver: macvlan` network. */
function readMacvlanNetwork(ctx: FileContext, project: string, key: string, body: Record<string, unknown>, names: Map<string, string>): RawNetwork {
  const base: Path = ['networks', key];
  checkNetworkKeys(ctx, body, base);
  // Compose names the network `<project>_<key>` unless `name:` says otherwise.
  const named = typeof body.name === 'string';
  const name = named ? (body.name as string) : composeNetworkName(project, key, undefined);
  const b = new NetworkBuilder(ctx, name, claimName(ctx, names, name, named ? [...base, 'name'] : base, named ? 'value' : 'key'));
  b.raw.compose = { project, key, external: false, driverOpts: stringMap(body.driver_opts), labels: labelMap(body.labels), ...(body.enable_ipv6 === true || body.enable_ipv6 === 'true' ? { enableIpv6: true } : {}) };
  const opts = body.driver_opts;
  if (isPlainMap(opts)) {
    if (opts.parent !== undefined) b.set('parent', opts.parent, [...base, 'driver_opts', 'parent']);
    if (opts.macvlan_mode !== undefined) b.set('mode', opts.macvlan_mode, [...base, 'driver_opts', 'macvlan_mode']);
  }
  readIpamConfig(ctx, b, body.ipam, [...base, 'ipam', 'config']);
  const own = body['x-macvlanctl'];
  if (isPlainMap(own)) readSettings(b, own, [...base, 'x-macvlanctl']);
  return b.raw;
}

/** The network's keys against the schema; x- keys are ignored, but one close to `x-macvlanctl` is reported as its typo. */
function checkNetworkKeys(ctx: FileContext, body: Record<string, unknown>, base: Path): void {
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
}

/** `ipam.config[]`: one entry per address family. */
function readIpamConfig(ctx: FileContext, b: NetworkBuilder, ipam: unknown, base: Path): void {
  const config = isPlainMap(ipam) && Array.isArray(ipam.config) ? ipam.config : [];
  const seen = new Map<4 | 6, string>();
  config.forEach((entry, i) => {
    if (!isPlainMap(entry)) return;
    const path: Path = [...base, i];
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
