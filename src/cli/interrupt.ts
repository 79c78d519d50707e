/**
 * While apply or destroy changes the host, SIGINT and SIGTERM do not kill the
 * process between two halves of a change: apply's run is aborted, stops
 * before its next step and undoes what was done (src/apply/run-operations.ts);
 * destroy's is finished.
 * The command then exits as a shell expects of a process ended by that
 * signal: 130 for SIGINT, 143 for SIGTERM (128 + the signal's number).
 * A further signal during the rollback is only acknowledged: cutting the
 * rollback short is what this prevents (SIGKILL still ends the process).
 */
import { log } from './output.js';

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/** The exit code for a run interrupted by `signal`, or undefined for another reason. */
export function exitCodeForSignal(signal: unknown): number | undefined {
  return typeof signal === 'string' ? SIGNAL_EXIT[signal] : undefined;
}

/**
 * `finish`: the run is not aborted but completed (destroy: a half-removed
 * network is worse than either end, and not every removal can be undone —
 * a deleted shim's addresses and routes go with it); the exit code still
 * says that a signal came.
 */
export async function whileInterruptible<T>(run: (signal: AbortSignal) => Promise<T>, opts: { finish?: string } = {}): Promise<T> {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      log(`${sig}: already stopping; ${opts.finish ? 'the removal' : 'the rollback'} finishes first`);
      return;
    }
    log(opts.finish ? `${sig}: ${opts.finish} finishes what it started, then stops` : `${sig}: stopping after the current step, then undoing what was done`);
    controller.abort(sig);
  };
  const given = opts.finish ? new AbortController().signal : controller.signal;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await run(given);
    if (controller.signal.aborted) {
      // The signal came after the last step (or the run was finished on purpose): nothing is half done.
      log(`interrupted: every change ${opts.finish ? 'of ' + opts.finish + ' ' : ''}is in place`);
      process.exitCode = exitCodeForSignal(controller.signal.reason) ?? 1;
    }
    return result;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
