import type { EventEmitter } from 'node:events';
import type { RecordedEvent } from '../envelope.ts';
import type { EventFilter, SubscribeOptions, Subscription } from '../eventStore.ts';

export interface PollingSubscriptionOptions extends SubscribeOptions {
  readPage(
    after: number,
    filter: EventFilter | undefined,
    limit: number,
  ): { events: RecordedEvent[]; scannedTo: number };
  /** Emits 'append' when this process appended: wakes the subscription at once. */
  changes: EventEmitter;
  /** Appends by other processes are seen within this interval. */
  pollIntervalMs: number;
  onClose(): void;
}

const PAGE = 500;

/**
 * Catch-up then live, over a log whose positions only grow: the subscription only ever asks for
 * "events after the last position I delivered or scanned", so the switch from catch-up to live
 * can neither skip an event nor deliver one twice.
 */
export class PollingSubscription implements Subscription {
  readonly #options: PollingSubscriptionOptions;
  #closed = false;
  #wake: (() => void) | undefined;

  constructor(options: PollingSubscriptionOptions) {
    this.#options = options;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    let after = this.#options.after ?? 0;
    let caughtUp = false;
    while (!this.#closed) {
      const page = this.#options.readPage(after, this.#options.filter, PAGE);
      for (const event of page.events) {
        if (this.#closed) return;
        yield event;
      }
      after = page.scannedTo;
      if (page.events.length < PAGE) {
        if (!caughtUp) {
          caughtUp = true;
          this.#options.onCaughtUp?.(after);
        }
        await this.#waitForChange();
      }
    }
  }

  #waitForChange(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#options.changes.off('append', done);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.#options.pollIntervalMs);
      this.#options.changes.on('append', done);
      this.#wake = done;
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake?.();
    this.#options.onClose();
  }
}
