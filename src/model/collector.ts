import { AggregateMacvlanError, type ErrorCode, MacvlanError } from './errors.js';

/** Collects every problem of a declaration so the user sees them all at once. */
export class ProblemCollector {
  readonly errors: MacvlanError[] = [];

  add(code: ErrorCode, message: string, details: Record<string, unknown> = {}): void {
    this.errors.push(new MacvlanError(code, message, details));
  }

  /** Run `fn`, keeping its MacvlanError instead of throwing. */
  run<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (e instanceof MacvlanError) {
        this.errors.push(e);
        return undefined;
      }
      throw e;
    }
  }

  throwIfAny(context: string): void {
    if (this.errors.length === 0) return;
    if (this.errors.length === 1) throw this.errors[0]!.withContext(context);
    // The first problem's code stands for all: it is the one a script most likely checks for.
    throw new AggregateMacvlanError(this.errors[0]!.code, `${context}: ${this.errors.length} problems`, this.errors);
  }
}
