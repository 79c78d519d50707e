/**
 * Delays between attempts to reach something that went away (the Docker
 * engine during a restart, an `ip monitor` that died): soon at first, since a
 * dockerd restart takes about a second, then doubling up to a ceiling, so an
 * engine that is down for good costs one connection attempt every few seconds
 * and no busy loop.
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 5_000, factor: 2 };

/** The delay before attempt number `attempt` (0 = the first retry). */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  if (!Number.isFinite(attempt) || attempt < 0) return policy.initialMs;
  // Capped before the power grows: 2 ** 1100 is Infinity.
  const exp = Math.min(attempt, 64);
  return Math.min(policy.maxMs, Math.round(policy.initialMs * policy.factor ** exp));
}

/** Resolves after `ms`, or at once when `signal` is aborted (never rejects). */
export function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
