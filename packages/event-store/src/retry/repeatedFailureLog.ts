import { dirname } from 'node:path';
import { StoreUnavailableError } from '../errors.ts';

/** What a RepeatedFailureLog writes through; a pino logger fits. */
export interface FailureLogger {
  error(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

/** A logger that says nothing: the default where a caller passes none (tests, benchmarks). */
export const silentLogger: FailureLogger = { info() {}, warn() {}, error() {}, debug() {} };

export interface RepeatedFailureLogOptions {
  logger: FailureLogger;
  /** What keeps failing, the start of every line: "could not record Docker's events". */
  what: string;
  /** How long the caller waits before it tries again: said in the first line. */
  retryEveryMs: number;
  /** Every how many failures in a row the line is said again (at warn); in between at debug. Default 30. */
  remindEvery?: number;
}

/**
 * The cadence of a service that retries something that keeps failing (a full disk, a read-only
 * data dir, an unreachable daemon): said once in full with what to do, then only every
 * `remindEvery`th failure, and once more when it works again; never a stack per retry. A store
 * failure with a known cure (disk full, read-only) is said as that cure; an error nobody expected
 * keeps its stack on the first line, since that is a bug to report.
 *
 *   const log = new RepeatedFailureLog({ logger, what: 'could not expire GPU holds', retryEveryMs: 30_000 });
 *   try { await work(); log.recovered(); } catch (error) { log.failed(error); }
 */
export class RepeatedFailureLog {
  readonly #options: Required<RepeatedFailureLogOptions>;
  #failures = 0;
  #since: string | undefined;

  constructor(options: RepeatedFailureLogOptions) {
    this.#options = { remindEvery: 30, ...options };
  }

  /** Failures in a row so far (0 once it worked again). */
  get failures(): number {
    return this.#failures;
  }

  /** One more failure: logged in full the first time, then at the slower cadence. */
  failed(error: unknown, fields: object = {}): void {
    const { logger, what, remindEvery } = this.#options;
    this.#failures += 1;
    this.#since ??= new Date().toISOString();
    const context = { ...fields, failures: this.#failures, failingSince: this.#since };
    const cure = this.#cureOf(error);
    const reason = error instanceof Error ? error.message : String(error);
    if (this.#failures === 1) {
      // An error without a known cure is a bug or something new: its stack helps, once.
      logger.error(cure ? { ...context, reason } : { ...context, err: error }, `${what}: ${cure ?? reason}`);
    } else if (this.#failures % remindEvery === 0) {
      logger.warn({ ...context, reason }, `${what} (still, ${this.#failures} tries): ${cure ?? reason}`);
    } else {
      logger.debug({ ...context, reason }, `${what} (again)`);
    }
  }

  /** It worked: says so once when it had been failing, and starts counting afresh. */
  recovered(fields: object = {}): void {
    if (this.#failures === 0) return;
    this.#options.logger.info(
      { ...fields, failures: this.#failures, failingSince: this.#since },
      `${this.#options.what}: works again after ${this.#failures} failed ${this.#failures === 1 ? 'try' : 'tries'}`,
    );
    this.#failures = 0;
    this.#since = undefined;
  }

  /** What to do about a failure that heals by itself once the admin acts; undefined for others. */
  #cureOf(error: unknown): string | undefined {
    if (!(error instanceof StoreUnavailableError)) return undefined;
    const folder = error.location.includes('://') ? error.location : dirname(error.location);
    const retrying = `DS01 retries every ${formatSeconds(this.#options.retryEveryMs)} and loses nothing`;
    switch (error.reason) {
      case 'disk_full':
        return `the disk holding ${folder} is full: free space; ${retrying}`;
      case 'read_only':
        return `the disk holding ${folder} is read-only: remount it read-write (\`findmnt -T ${folder}\`); ${retrying}`;
      default:
        return undefined;
    }
  }
}

function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}
