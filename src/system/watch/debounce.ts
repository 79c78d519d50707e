/**
 * Coalesces bursts of triggers into one call. A shim deleted by hand is one
 * netlink burst (link, addresses, routes, neighbours: a dozen messages within
 * a millisecond); a parent re-created is several bursts over tens of ms. One
 * reconcile per burst is enough, and it must start soon: `quietMs` after the
 * last trigger, or at the latest `maxWaitMs` after the first, so a steady
 * stream of changes cannot postpone a repair for ever.
 *
 * Timers are injected so the behaviour is tested without waiting.
 */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
  now(): number;
}

export const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
  now: () => Date.now(),
};

export interface Debouncer {
  /** A change was seen. */
  trigger(): void;
  /** Drop a pending call (shutting down). */
  cancel(): void;
  readonly pending: boolean;
}

export function debounce(fire: () => void, opts: { quietMs: number; maxWaitMs: number }, timers: Timers = realTimers): Debouncer {
  let handle: unknown;
  let first: number | undefined;
  const run = () => {
    handle = undefined;
    first = undefined;
    fire();
  };
  return {
    trigger() {
      const now = timers.now();
      first ??= now;
      if (handle !== undefined) timers.clear(handle);
      const untilMax = first + opts.maxWaitMs - now;
      handle = timers.set(run, Math.max(0, Math.min(opts.quietMs, untilMax)));
    },
    cancel() {
      if (handle !== undefined) timers.clear(handle);
      handle = undefined;
      first = undefined;
    },
    get pending() {
      return handle !== undefined;
    },
  };
}
