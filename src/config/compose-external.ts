/**
 * An `external: true` network in a Compose file: Compose uses it by its
 * `name:` (or the legacy `external: {name: …}`), else by its key, never
 * prefixed, and never creates it. Only macvlanctl's settings for it are read
 * (for host access to it as it exists); without them the network is listed
 * as skipped.
 */
import type { FileContext } from './file-problems.js';
import { networkSchema } from './file-schema.js';
import { NetworkBuilder, claimName, readSettings } from './network-builder.js';
import { isPlainMap } from './plain-map.js';
import type { RawNetwork } from './raw.js';
import type { Path } from './yaml-tree.js';

export function readExternal(ctx: FileContext, top: Record<string, unknown>, project: string, key: string, body: Record<string, unknown>, names: Map<string, string>): RawNetwork {
  const base: Path = ['networks', key];
  const { name, path, which } = externalName(key, body);
  const b = new NetworkBuilder(ctx, name, claimName(ctx, names, name, path, which));
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

/** The name Compose uses for an external network, and where it is written. */
function externalName(key: string, body: Record<string, unknown>): { name: string; path: Path; which: 'value' | 'key' } {
  const base: Path = ['networks', key];
  if (typeof body.name === 'string') return { name: body.name, path: [...base, 'name'], which: 'value' };
  if (isPlainMap(body.external) && typeof body.external.name === 'string') return { name: body.external.name, path: [...base, 'external', 'name'], which: 'value' };
  return { name: key, path: base, which: 'key' };
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
export function externalSettings(top: Record<string, unknown>, key: string, body: Record<string, unknown>): { body: Record<string, unknown>; path: Path } | undefined {
  const own = body['x-macvlanctl'];
  if (isPlainMap(own)) return { body: own, path: ['networks', key, 'x-macvlanctl'] };
  const fromTop = topSettings(top)[key];
  if (isPlainMap(fromTop)) return { body: fromTop, path: ['x-macvlanctl', 'networks', key] };
  return undefined;
}
