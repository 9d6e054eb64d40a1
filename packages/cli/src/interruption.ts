import type { Writable } from 'node:stream';
import { CliError } from './errors.ts';
import { readerGone } from './output/closedPipe.ts';

/** Why a command was asked to stop before its end. */
export type StopReason = 'SIGINT' | 'SIGTERM' | 'reader-gone';

/**
 * Exit codes of a stopped command. Ctrl-C and SIGTERM: 128 + the signal's number, as a shell reports
 * a process that the signal ended. A reader that went away (`ds01 … | head`): 0, since it got all it
 * asked for (what `head` leaves unread is not a failure of ds01).
 */
export const STOP_EXIT_CODES: Record<StopReason, number> = { SIGINT: 130, SIGTERM: 143, 'reader-gone': 0 };

/** A command that stopped because it was asked to: main prints nothing more and exits with its code. */
export class CommandStoppedError extends CliError {
  override name = 'CommandStoppedError';
  readonly reason: StopReason;
  constructor(reason: StopReason) {
    super(`stopped (${reason})`, { exitCode: STOP_EXIT_CODES[reason] });
    this.reason = reason;
  }
}

/**
 * Ctrl-C, SIGTERM and a closed stdout for one `ds01` run. A command that can stop cleanly (follow,
 * rebuild) claims the signal and ends itself when it aborts (its reason is a CommandStoppedError);
 * a command that did not claim it is ended at once on Ctrl-C/SIGTERM with the same exit code (a
 * write to the log or read models is one SQLite transaction: it is committed or it is not).
 */
export class Interruption {
  readonly #controller = new AbortController();
  #claimed = false;

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The stop signal, for a command that ends itself when it aborts. */
  claim(): AbortSignal {
    this.#claimed = true;
    return this.#controller.signal;
  }

  /** Why the run was stopped, or null. */
  get reason(): StopReason | null {
    const reason = this.#controller.signal.reason;
    return reason instanceof CommandStoppedError ? reason.reason : null;
  }

  /** Listens for SIGINT, SIGTERM and a closed stdout until the returned function is called. */
  listen(stdout: Writable = process.stdout): () => void {
    const stop = (reason: StopReason) => {
      if (!this.#controller.signal.aborted) this.#controller.abort(new CommandStoppedError(reason));
      if (!this.#claimed && reason !== 'reader-gone') process.exit(STOP_EXIT_CODES[reason]);
    };
    const onSigint = () => stop('SIGINT');
    const onSigterm = () => stop('SIGTERM');
    const gone = readerGone(stdout);
    const onGone = () => stop('reader-gone');
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    gone.addEventListener('abort', onGone, { once: true });
    // stderr too: `ds01 … 2>&1 | head` must not end in a stack either.
    readerGone(process.stderr);
    return () => {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      gone.removeEventListener('abort', onGone);
    };
  }
}
