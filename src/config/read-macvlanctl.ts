/**
 * A macvlanctl.yaml file → RawNetwork[]: `networks: NAME: {parent, subnet,
 * gateway, ip_range, host_address, avoid, aux_addresses, mode, host_access,
 * persist, ipv6}`.
 * - `host_access: {interface, address}` means host access on, with that
 *   shim interface name and shim address.
 * - `aux_addresses: {host: IP}` is the shim's address, like `host_address`.
 * - An IPv6 value (it contains ':') in a top-level `subnet`, `gateway`,
 *   `ip_range` or `host_address` goes to the IPv6 part, as the flags do, so
 *   `subnet: 2001:db8::/64` alone declares an IPv6 subnet. Giving the same
 *   IPv6 field there and under `ipv6:` is an error.
 * - Keys starting with `x-` at the top level or in a network are ignored
 *   (room for YAML anchors, as in Compose); `<<` merge keys work.
 * - A network with no settings (`lan:`) is allowed: flags may fill it in.
 */
import type { FileContext } from './file-problems.js';
import { macvlanctlFileSchema } from './file-schema.js';
import { NetworkBuilder, checkName, isExtension, readSettings } from './network-builder.js';
import { defineKey, hasOwn, isPlainMap, withoutKeys } from './plain-map.js';
import type { RawNetwork } from './raw.js';
import type { Path } from './yaml-tree.js';

export function readMacvlanctl(ctx: FileContext, top: Record<string, unknown>): RawNetwork[] {
  ctx.check(macvlanctlFileSchema, withoutExtensions(top), []);
  const networks = top.networks;
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

/** The file as the schema sees it: without `x-` keys at the top level and in each network. */
function withoutExtensions(top: Record<string, unknown>): Record<string, unknown> {
  const view = withoutKeys(top, isExtension);
  const networks = view.networks;
  if (isPlainMap(networks)) {
    const bodies: Record<string, unknown> = {};
    for (const [name, body] of Object.entries(networks)) defineKey(bodies, name, isPlainMap(body) ? withoutKeys(body, isExtension) : body);
    view.networks = bodies;
  }
  return view;
}
