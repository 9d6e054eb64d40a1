import { EventEmitter } from 'node:events';

/**
 * What wakes a store's polling subscriptions: a count of appends heard of (a change means "read again
 * before waiting") and a wait that ends at the next one, or after a timeout at the latest.
 */
export class AppendWakeups {
  readonly #events = new EventEmitter();
  #count = 0;

  constructor() {
    this.#events.setMaxListeners(0);
  }

  get count(): number {
    return this.#count;
  }

  wake(): void {
    this.#count += 1;
    this.#events.emit('append');
  }

  /** Resolves at the next wake(), or after `ms`; cancel() resolves it at once. */
  wait(ms: number): { promise: Promise<void>; cancel(): void } {
    let cancel = () => {};
    const promise = new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#events.off('append', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#events.on('append', done);
      cancel = done;
    });
    return { promise, cancel };
  }
}
