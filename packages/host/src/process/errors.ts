import { Ds01Error } from '@ds01/errors';
/** Base of every error about running another program (nvidia-smi, getent, systemctl…). */
export class ProgramError extends Ds01Error {
  override name = 'ProgramError';
  /** The command line as a person would type it, e.g. "getent passwd alice". */
  readonly command: string;
  /** What went wrong, without the command: "could not be run: spawn EACCES". */
  readonly problem: string;
  constructor(command: string, problem: string, options?: { cause?: unknown }) {
    super(`${command}: ${problem}`, options);
    this.command = command;
    this.problem = problem;
  }
}

/**
 * The program did not finish (exit and close its output) within its deadline. It was sent SIGTERM,
 * then SIGKILL; DS01 stopped waiting at the deadline whether or not it died (a process in
 * uninterruptible sleep survives SIGKILL) and left its pipes.
 */
export class ProgramTimeoutError extends ProgramError {
  override name = 'ProgramTimeoutError';
  readonly timeoutMs: number;
  /** Whether the program itself had exited (a child of it still held its output open). */
  readonly exited: boolean;
  /** What it had written before the deadline. */
  readonly stdout: string;
  readonly stderr: string;
  constructor(
    command: string,
    detail: { timeoutMs: number; exited: boolean; stdout: string; stderr: string },
  ) {
    super(
      command,
      detail.exited
        ? `exited, but a process it started kept its output open past ${detail.timeoutMs} ms; stopped waiting`
        : `did not finish within ${detail.timeoutMs} ms; stopped waiting and sent it SIGTERM, then SIGKILL`,
    );
    this.timeoutMs = detail.timeoutMs;
    this.exited = detail.exited;
    this.stdout = detail.stdout;
    this.stderr = detail.stderr;
  }
}

/** No such program on PATH (or at the path given). */
export class ProgramNotFoundError extends ProgramError {
  override name = 'ProgramNotFoundError';
  readonly binary: string;
  constructor(command: string, binary: string, options?: { cause?: unknown }) {
    super(command, `${binary} was not found (not installed, or not on PATH)`, options);
    this.binary = binary;
  }
}

/** The program exists but could not be started (not executable, out of processes…). */
export class ProgramStartError extends ProgramError {
  override name = 'ProgramStartError';
  constructor(command: string, reason: string, options?: { cause?: unknown }) {
    super(command, `could not be run: ${reason}`, options);
  }
}

/** The program wrote more than the caller allows: it was killed and its output dropped. */
export class ProgramOutputTooLargeError extends ProgramError {
  override name = 'ProgramOutputTooLargeError';
  readonly maxBytes: number;
  constructor(command: string, maxBytes: number) {
    super(command, `wrote more than ${maxBytes} bytes and was killed`);
    this.maxBytes = maxBytes;
  }
}
