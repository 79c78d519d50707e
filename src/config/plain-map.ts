/**
 * Plain maps read from YAML: own keys only, set so that a key named
 * `__proto__` stays a plain key.
 */

export function defineKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty, not assignment: a key named __proto__ stays a plain key.
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

export function hasOwn(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

export function isPlainMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** A copy of `obj` without the keys `drop` selects. */
export function withoutKeys(obj: Record<string, unknown>, drop: (key: string) => boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) if (!drop(key)) defineKey(out, key, obj[key]);
  return out;
}
