import { Ds01Error, type Ds01ErrorOptions, formatDs01Error } from '@ds01/errors';

/** An error a command raises on purpose: printed as one line and a hint, exit code 1 (or given). */
export class CliError extends Ds01Error {
  override name = 'CliError';
  readonly exitCode: number;
  constructor(message: string, options: Ds01ErrorOptions & { exitCode?: number } = {}) {
    const { exitCode, ...rest } = options;
    super(message, rest);
    this.exitCode = exitCode ?? 1;
  }
}

/** What the CLI prints for an error: one line (plus a hint), or the stack with --debug. */
export function describeError(error: unknown, debug: boolean): string {
  if (debug) {
    const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
    const cause =
      error instanceof Error && error.cause ? `\ncaused by: ${describeError(error.cause, true)}` : '';
    return stack + cause;
  }
  // A Ds01Error is expected trouble with a message written for users; anything else is a bug.
  if (error instanceof Ds01Error) return formatDs01Error('ds01', error);
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
