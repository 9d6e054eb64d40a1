/** What every DS01 error may carry besides its message. */
export interface Ds01ErrorOptions {
  /** What the reader can do about it ("stop it first ...", "fix the file and run the command again"). */
  hint?: string | undefined;
  cause?: unknown;
}

/**
 * Base of every error DS01 raises on purpose. Its message is written for the person who reads it
 * (an admin at a terminal, a user whose `docker run` was refused) and names what is wrong; `hint`
 * says what to do next. The CLI and ds01d print both; anything that is not a Ds01Error reaching
 * them is a bug and is printed as one.
 */
export class Ds01Error extends Error {
  override name = 'Ds01Error';
  readonly hint: string | undefined;
  constructor(message: string, options: Ds01ErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.hint = options.hint;
  }
}

/** The message and, on a second line, the hint: how the CLI and ds01d print an expected error. */
export function formatDs01Error(prefix: string, error: Ds01Error): string {
  return `${prefix}: ${error.message}${error.hint ? `\nhint: ${error.hint}` : ''}`;
}
