import type { RecordedEvent } from '../envelope.ts';
import type { EventFilter, SubscribeOptions, Subscription } from '../eventStore.ts';

interface Page {
  events: RecordedEvent[];
  scannedTo: number;
}

/** What a polling subscription needs from its store. */
export interface PollingSource {
  /**
   * Events after a position, and how far the log was looked at (see SqliteEventStore.readPage). It may
   * answer at once (SQLite) or later (a server); a server's store retries its own connection trouble.
   */
  readPage(after: number, filter: EventFilter | undefined, limit: number): Page | Promise<Page>;
  /** Grows with every append the store hears of: a change means "read again before waiting". */
  appendCount(): number;
  /**
   * Resolves on the next append the store hears of (its own; a server's notifications of others'), or
   * after `ms` at the latest (appends it cannot hear of).
   */
  waitForAppend(ms: number): { promise: Promise<void>; cancel(): void };
}

export interface PollingSubscriptionOptions extends SubscribeOptions {
  source: PollingSource;
  pollIntervalMs: number;
  pageSize: number;
  onClose(): void;
}

/**
 * Catch-up then live, over a log whose positions only grow: the subscription only ever asks for
 * "events after the last position I delivered or scanned", so the switch from catch-up to live
 * can neither skip an event nor deliver one twice. It is the same query before and after.
 */
export class PollingSubscription implements Subscription {
  readonly #options: PollingSubscriptionOptions;
  #closed = false;
  #cancelWait: (() => void) | undefined;

  constructor(options: PollingSubscriptionOptions) {
    this.#options = options;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    const { source, filter, pageSize, pollIntervalMs } = this.#options;
    let after = this.#options.after ?? 0;
    let caughtUp = false;
    while (!this.#closed) {
      const seen = source.appendCount();
      const page = await source.readPage(after, filter, pageSize);
      if (this.#closed) return;
      for (const event of page.events) {
        if (this.#closed) return;
        yield event;
      }
      after = page.scannedTo;
      if (page.events.length === pageSize) continue;
      if (!caughtUp) {
        caughtUp = true;
        this.#options.onCaughtUp?.(after);
      }
      // An append while we were yielding: read again at once rather than sleep through it.
      if (source.appendCount() !== seen || this.#closed) continue;
      const wait = source.waitForAppend(pollIntervalMs);
      this.#cancelWait = wait.cancel;
      await wait.promise;
      this.#cancelWait = undefined;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelWait?.();
    this.#options.onClose();
  }
}
