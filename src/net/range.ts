/**
 * `--avoid` values: `A-B`, a single address, or a CIDR, as one interval.
 */
import { MacvlanError } from '../model/errors.js';
import { type Family, cidrLast, formatAddress, looksLikeFamily, parseAddress, parseCidr } from './address.js';
import type { Interval } from './intervals.js';

export interface ParsedRange {
  family: Family;
  interval: Interval;
}

export function parseRange(text: string, label: string): ParsedRange {
  const t = text.trim();
  if (t.includes('/')) {
    const c = parseCidr(t, label);
    return { family: c.family, interval: { start: c.base, end: cidrLast(c) } };
  }
  const dash = t.indexOf('-');
  if (dash < 0) {
    const a = parseAddress(t, label);
    return { family: a.family, interval: { start: a.value, end: a.value } };
  }
  const left = t.slice(0, dash);
  const right = t.slice(dash + 1);
  if (looksLikeFamily(left) !== looksLikeFamily(right)) {
    throw new MacvlanError('ADDRESS_INVALID', `${label}: '${t}' mixes IPv4 and IPv6; a range must stay within one family`, { field: label, value: t });
  }
  const a = parseAddress(left, label);
  const b = parseAddress(right, label);
  if (a.value > b.value) {
    throw new MacvlanError(
      'ADDRESS_INVALID',
      `${label}: range '${t}' is reversed (its start is above its end); did you mean ${formatAddress(b)}-${formatAddress(a)}?`,
      { field: label, value: t },
    );
  }
  return { family: a.family, interval: { start: a.value, end: b.value } };
}
