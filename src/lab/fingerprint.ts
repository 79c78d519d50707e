// "Is this host's network exactly as before?" — a stable dump of a namespace's links, addresses,
// routes and rules, without counters and timers.

import { runChecked } from './process.js';
import type { LabHost } from './types.js';

const VOLATILE_KEYS = new Set([
  'stats',
  'stats64',
  'valid_life_time',
  'preferred_life_time',
  'expires',
  'hold_timer',
  'message_age_timer',
  'forward_delay_timer',
  'hello_timer',
  'tcn_timer',
  'topology_change_timer',
  'gc_timer',
  'used',
  'lastused',
]);

/** drops counters and timers from parsed `ip -json` output (pure) */
export function stripVolatile(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripVolatile);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (!VOLATILE_KEYS.has(k)) out[k] = stripVolatile(v);
    }
    return out;
  }
  return value;
}

/**
 * JSON (pretty, stable) of the host namespace's links (-details), addresses, routes (v4 and v6, all
 * tables) and rules, with counters and timers removed. Equal strings mean an unchanged network.
 */
export async function hostFingerprint(host: Pick<LabHost, 'netns'>): Promise<string> {
  const ip = async (args: string[]): Promise<unknown> => {
    const r = await runChecked('ip', ['-n', host.netns, '-json', ...args]);
    return r.stdout.trim() ? (JSON.parse(r.stdout) as unknown) : [];
  };
  const [links, addrs, routes4, routes6, rules4, rules6] = await Promise.all([
    ip(['-details', 'link', 'show']),
    ip(['-details', 'addr', 'show']),
    ip(['-4', 'route', 'show', 'table', 'all']),
    ip(['-6', 'route', 'show', 'table', 'all']),
    ip(['-4', 'rule', 'show']),
    ip(['-6', 'rule', 'show']),
  ]);
  return JSON.stringify(stripVolatile({ links, addrs, routes4, routes6, rules4, rules6 }), null, 1);
}
