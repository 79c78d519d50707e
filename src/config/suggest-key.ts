/**
 * "Did you mean …?" for keys in configuration files. Keys are compared after
 * folding case and dropping `_` and `-`, so `iprange`, `ip-range` and `IP_Range`
 * all find `ip_range`; what remains is compared by edit distance.
 */

import { editDistance } from './suggest.js';

function fold(key: string): string {
  return key.toLowerCase().replace(/[_-]/g, '');
}

/**
 * The candidate closest to `input`, or undefined when none is close enough
 * (1 edit for keys of up to 4 letters, else 2, or a third of the length
 * for long keys).
 * `aliases` maps other words people use (folded) to a candidate, for example
 * `macvlanmode` → `mode`.
 */
export function suggestKey(input: string, candidates: readonly string[], aliases: Readonly<Record<string, string>> = {}): string | undefined {
  const folded = fold(input);
  const alias = aliases[folded];
  if (alias !== undefined && candidates.includes(alias)) return alias;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(folded, fold(candidate));
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  const allowed = folded.length <= 4 ? 1 : Math.max(2, Math.floor(folded.length / 3));
  return bestDistance <= allowed ? best : undefined;
}
