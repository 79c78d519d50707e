/**
 * --lock-wait: how many seconds apply, destroy, up and down wait for another
 * macvlanctl to finish.
 * Pure. A negative or non-numeric wait was taken as "do not wait" or as NaN
 * before; now it is a usage error (exit 2) before anything runs.
 */
import { MacvlanError } from '../model/errors.js';
import { numberFlag } from '../probe/scan-request.js';

export const DEFAULT_LOCK_WAIT_S = 5;
/** A day: a longer wait is a typo, and setTimeout cannot hold much more than 24.8 days anyway. */
export const MAX_LOCK_WAIT_S = 86_400;

/** The wait in milliseconds. */
export function lockWaitMs(text: string | undefined): number {
  const seconds = numberFlag(text, DEFAULT_LOCK_WAIT_S, '--lock-wait');
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_LOCK_WAIT_S) {
    throw new MacvlanError('USAGE', `--lock-wait ${text}: give the seconds to wait for another macvlanctl as a number from 0 to ${MAX_LOCK_WAIT_S} (default ${DEFAULT_LOCK_WAIT_S}; 0 fails at once)`, {
      flag: '--lock-wait',
      value: text,
    });
  }
  return Math.round(seconds * 1000);
}
