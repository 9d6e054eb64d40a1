import cliProgress from 'cli-progress';

/** What a long job reports after each step (the runner's ProgressReport fits). */
export interface Progress {
  /** What is being worked on (a projection name). */
  label: string;
  done: number;
  total: number;
  /** Events processed so far. */
  applied: number;
}

/**
 * Shows progress on stderr: a bar with events done, events/s and ETA on a terminal, one log line
 * every few seconds otherwise (a bar would fill a log file with carriage returns).
 */
export class ProgressDisplay {
  readonly #stream: NodeJS.WriteStream;
  readonly #intervalMs: number;
  #bar: cliProgress.SingleBar | undefined;
  #label: string | undefined;
  #startedAt = 0;
  #lastLine = 0;
  #last: Progress | undefined;

  constructor(stream: NodeJS.WriteStream = process.stderr, options: { intervalMs?: number } = {}) {
    this.#stream = stream;
    this.#intervalMs = options.intervalMs ?? 2000;
  }

  update(progress: Progress): void {
    if (progress.label !== this.#label) this.#begin(progress);
    this.#last = progress;
    const rate = this.#rate(progress.applied);
    if (this.#bar) {
      this.#bar.setTotal(Math.max(progress.total, 1));
      this.#bar.update(progress.done, { applied: progress.applied.toLocaleString('en-US'), rate });
      return;
    }
    const now = Date.now();
    if (now - this.#lastLine >= this.#intervalMs) {
      this.#lastLine = now;
      const percent = progress.total > 0 ? Math.floor((100 * progress.done) / progress.total) : 100;
      this.#stream.write(`${progress.label}: ${percent}% ${progress.applied} events, ${rate} events/s\n`);
    }
  }

  /** Ends the bar of work that did not finish, without a "done" line. */
  abandon(): void {
    this.#bar?.stop();
    this.#bar = undefined;
    this.#label = undefined;
    this.#last = undefined;
  }

  /** Ends the current item's bar (or prints its last line). */
  finish(): void {
    if (this.#bar) this.#bar.stop();
    else if (this.#last) {
      const seconds = ((Date.now() - this.#startedAt) / 1000).toFixed(1);
      this.#stream.write(
        `${this.#last.label}: done, ${this.#last.applied} events in ${seconds}s (${this.#rate(this.#last.applied)} events/s)\n`,
      );
    }
    this.#bar = undefined;
    this.#label = undefined;
    this.#last = undefined;
  }

  #begin(progress: Progress): void {
    this.finish();
    this.#label = progress.label;
    this.#startedAt = Date.now();
    this.#lastLine = 0;
    if (this.#stream.isTTY) {
      this.#bar = new cliProgress.SingleBar(
        {
          stream: this.#stream,
          format: `${progress.label.padEnd(14)} [{bar}] {percentage}% | {applied} events | {rate} events/s | ETA {eta_formatted}`,
          hideCursor: true,
          etaBuffer: 20,
          fps: 10,
        },
        cliProgress.Presets.shades_classic,
      );
      this.#bar.start(Math.max(progress.total, 1), 0, { applied: '0', rate: '0' });
    }
  }

  #rate(applied: number): string {
    const seconds = (Date.now() - this.#startedAt) / 1000;
    return seconds > 0 ? Math.round(applied / seconds).toLocaleString('en-US') : '0';
  }
}
