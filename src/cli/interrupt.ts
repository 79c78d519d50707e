/**
 * While apply or destroy changes the host, SIGINT and SIGTERM do not kill the
 * process between two halves of a change: they abort the run, which stops
 * before its next step and undoes what was done (src/apply/run-operations.ts).
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

export async function whileInterruptible<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      log(`${sig}: already stopping; the rollback finishes first`);
      return;
    }
    log(`${sig}: stopping after the current step, then undoing what was done`);
    controller.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await run(controller.signal);
    if (controller.signal.aborted) {
      // The signal came after the last step: nothing is half done, everything is in place.
      log(`interrupted after the last step: every change is in place`);
      process.exitCode = exitCodeForSignal(controller.signal.reason) ?? 1;
    }
    return result;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
