/**
 * Expands Compose variables (compose-interpolate.ts) in a Compose file's
 * values, in place, in the parts macvlanctl reads: the project `name:`,
 * `networks:`, the top-level `x-macvlanctl:` and each service's `networks:`.
 * The environment wins over the `.env` file, as in Compose. A variable that
 * is missing is a problem at its place.
 */
import type { FileContext } from './file-problems.js';
import { InterpolationError, interpolate } from './compose-interpolate.js';
import { hasOwn, isPlainMap } from './plain-map.js';
import type { Path } from './yaml-tree.js';

type Variables = Record<string, string | undefined>;

export function interpolateCompose(ctx: FileContext, top: Record<string, unknown>, vars: { env?: Variables; dotEnv?: Variables }): void {
  // Own keys only: process.env inherits Object's methods (`${constructor}` must be unset, not a function).
  const own = (from: Variables | undefined, name: string) => (from && hasOwn(from, name) ? from[name] : undefined);
  const lookup = (name: string): string | undefined => own(vars.env, name) ?? own(vars.dotEnv, name);
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
