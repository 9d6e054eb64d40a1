/** An error a command raises on purpose: printed as one line and a hint, exit code 1 (or given). */
export class CliError extends Error {
  override name = 'CliError';
  readonly hint: string | undefined;
  readonly exitCode: number;
  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

const BUILTIN_ERRORS: readonly unknown[] = [
  Error,
  TypeError,
  RangeError,
  ReferenceError,
  SyntaxError,
  EvalError,
  URIError,
  AggregateError,
];

/**
 * Typed errors (a class of DS01's: EventStoreError, ConfigError, ProjectionError, CliError ...)
 * are expected trouble with a message written for users; anything else is a bug.
 */
export function isTypedError(error: unknown): error is Error & { hint?: unknown } {
  return error instanceof Error && !BUILTIN_ERRORS.includes(error.constructor);
}

/** What the CLI prints for an error: one line (plus a hint), or the stack with --debug. */
export function describeError(error: unknown, debug: boolean): string {
  if (debug) {
    const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
    const cause =
      error instanceof Error && error.cause ? `\ncaused by: ${describeError(error.cause, true)}` : '';
    return stack + cause;
  }
  if (isTypedError(error)) {
    const hint = typeof error.hint === 'string' && error.hint ? `\nhint: ${error.hint}` : '';
    return `ds01: ${error.message}${hint}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `ds01: unexpected error: ${message}\nhint: this is a bug in DS01; run again with --debug and report the stack`;
}

/** The command has said everything (a program it ran printed its own error): exit with this code, print nothing. */
export class SilentExit extends CliError {
  override name = 'SilentExit';
  constructor(exitCode: number) {
    super(`exit ${exitCode}`, { exitCode });
  }
}
