/**
 * A job run now and then, never twice at once: the next run starts `intervalMs` after the last one
 * ended (not on a fixed beat), so a slow run — an nvidia-smi that takes its whole timeout, a cgroup tree
 * of a thousand containers — delays the next one instead of piling runs up. A run asked for while one
 * is in flight (`runOnce`: a test, a benchmark, stop's last flush) joins that one.
 *
 * `run` must not throw: a periodic job reports its own failures (see RepeatedFailureLog); a rejection
 * here would end the loop.
 */
export class PeriodicTask {
  readonly #run: () => Promise<void>;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | null = null;
  #inFlight: Promise<void> | null = null;
  #stopped = true;

  constructor(run: () => Promise<void>, intervalMs: number) {
    this.#run = run;
    this.#intervalMs = intervalMs;
  }

  /** Runs now, or joins the run in flight. */
  runOnce(): Promise<void> {
    this.#inFlight ??= this.#run().finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }

  /** Starts the loop: a run after `firstInMs`, then one `intervalMs` after each ends. */
  start(firstInMs = 0): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    const tick = async () => {
      await this.runOnce();
      if (!this.#stopped) this.#timer = setTimeout(tick, this.#intervalMs);
    };
    this.#timer = setTimeout(tick, firstInMs);
  }

  /** Ends the loop and waits for a run in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#inFlight;
  }
}
