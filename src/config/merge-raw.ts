/**
 * Flags override the file, field by field. Lists and maps given as flags
 * replace the file's list or map (as `docker network create` would see only
 * the flags), which keeps the result predictable.
 */
import type { RawFamily, RawNetwork } from './raw.js';

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function mergeRaw(file: RawNetwork, flags: RawNetwork): RawNetwork {
  const origins = { ...file.origins };
  // Remove the file's origins of fields the flags replace, including the
  // per-entry keys of lists and maps.
  for (const key of Object.keys(flags.origins)) {
    if (key === 'name') continue;
    for (const existing of Object.keys(origins)) {
      if (existing === key || existing.startsWith(`${key}.`)) delete origins[existing];
    }
  }
  const fromFlags = definedOnly({ ...flags, origins: undefined, ipv6: undefined, name: undefined });
  const merged: RawNetwork = { ...file, ...fromFlags, name: file.name, origins: { ...origins, ...withoutName(flags.origins) } };
  if (flags.ipv6) {
    merged.ipv6 = { ...(file.ipv6 ?? {}), ...(definedOnly(flags.ipv6) as RawFamily) };
  }
  return merged;
}

function withoutName(o: Record<string, string>): Record<string, string> {
  const { name: _ignored, ...rest } = o;
  return rest;
}
