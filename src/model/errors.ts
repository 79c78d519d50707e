/**
 * One error type for the whole tool. `code` is stable (scripts match on it),
 * `message` is for a person and says what to do, `details` is structured data
 * for `--json`. The exit code follows from the code: configuration and usage
 * errors exit 2, everything else 1.
 */
export type ErrorCode =
  | 'USAGE'
  | 'CONFIG_INVALID'
  | 'CONFIG_SYNTAX'
  | 'ADDRESS_INVALID'
  | 'PARENT_NOT_FOUND'
  | 'PARENT_INVALID'
  | 'RANGE_CONFLICT'
  | 'NO_FREE_RANGE'
  | 'PLAN_UNSAFE'
  | 'DOCKER_UNAVAILABLE'
  | 'DOCKER_ERROR'
  | 'DOCKER_CONFLICT'
  | 'NOT_PERMITTED'
  | 'SYSTEM_ERROR'
  | 'LOCKED'
  | 'APPLY_FAILED'
  | 'NOT_FOUND'
  /** Our own record under <root>/var/lib/macvlanctl cannot be read as one. */
  | 'RECORD_CORRUPT'
  | 'ABORTED';

const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'USAGE',
  'CONFIG_INVALID',
  'CONFIG_SYNTAX',
  'ADDRESS_INVALID',
  'PARENT_NOT_FOUND',
  'PARENT_INVALID',
  'RANGE_CONFLICT',
  'NO_FREE_RANGE',
  'PLAN_UNSAFE',
]);

/**
 * Marks every MacvlanError, whichever copy of this module made it: the file
 * reader is bundled apart (scripts/bundle.mjs) with its own copy of this class,
 * and its errors must still be `instanceof MacvlanError` everywhere.
 */
const BRAND = Symbol.for('macvlanctl.MacvlanError');

export class MacvlanError extends Error {
  readonly [BRAND] = true;
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MacvlanError';
    this.code = code;
    this.details = details;
  }

  /** The same error with context put in front of the message ("create shim x: …"). */
  withContext(context: string): MacvlanError {
    return new MacvlanError(this.code, `${context}: ${this.message}`, this.details, { cause: this.cause });
  }

  get exitCode(): 1 | 2 {
    return USAGE_CODES.has(this.code) ? 2 : 1;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    // Subclasses keep the ordinary prototype check; the base class goes by the brand.
    if (this !== MacvlanError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }
}

/** Several independent failures (collected, not stopped at the first), reported together. */
export class AggregateMacvlanError extends MacvlanError {
  readonly errors: MacvlanError[];
  constructor(code: ErrorCode, message: string, errors: MacvlanError[]) {
    super(code, `${message}\n${errors.map((e) => `  - ${e.message}`).join('\n')}`, {
      errors: errors.map((e) => ({ code: e.code, message: e.message, details: e.details })),
    });
    this.errors = errors;
  }
}
