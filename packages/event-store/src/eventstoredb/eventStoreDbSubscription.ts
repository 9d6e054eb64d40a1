import type { AllStreamSubscription, KurrentDBClient } from '@kurrent/kurrentdb-client';
import type { EventCodec } from '../codec.ts';
import type { RecordedEvent } from '../envelope.ts';
import type { SubscribeOptions, Subscription } from '../eventStore.ts';
import {
  matchesFilter,
  ownEventOf,
  positionOf,
  readPositionAfter,
  serverFilterOf,
  toRecordedEvent,
} from './mapping.ts';

/**
 * A catch-up subscription to $all: ESDB itself reads history then switches to live without a gap.
 * What this adds: positions strictly after `after`, system events skipped, the part of a combined
 * filter the server did not apply, and onCaughtUp called only once every event received before
 * the server's "caught up" has been delivered (the server's notice overtakes buffered events).
 */
export class EventStoreDbSubscription implements Subscription {
  readonly #client: KurrentDBClient;
  readonly #codec: EventCodec;
  readonly #options: SubscribeOptions;
  readonly #asStoreError: (error: unknown) => unknown;
  #subscription: AllStreamSubscription | undefined;
  #closed = false;

  constructor(
    client: KurrentDBClient,
    codec: EventCodec,
    options: SubscribeOptions,
    asStoreError: (error: unknown) => unknown,
  ) {
    this.#client = client;
    this.#codec = codec;
    this.#options = options;
    this.#asStoreError = asStoreError;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    if (this.#closed) return;
    const { after = 0, filter, onCaughtUp } = this.#options;
    const subscription = this.#client.subscribeToAll({
      fromPosition: readPositionAfter(after),
      filter: serverFilterOf(filter),
    });
    this.#subscription = subscription;
    let received = 0;
    let lastPosition = after;
    let caughtUpAfter: number | undefined;
    let serverPosition = 0;
    let caughtUpCalled = false;
    const callCaughtUp = () => {
      if (caughtUpCalled || this.#closed) return;
      caughtUpCalled = true;
      onCaughtUp?.(Math.max(lastPosition, serverPosition));
    };
    subscription.on('caughtUp', (info) => {
      if (caughtUpAfter !== undefined) return;
      // Everything the server sent before this notice is received or waiting in the buffer.
      caughtUpAfter = received + subscription.readableLength;
      serverPosition = info.position ? Number(info.position.commit) : 0;
      if (subscription.readableLength === 0) callCaughtUp();
    });
    try {
      for await (const resolved of subscription) {
        received += 1;
        const event = ownEventOf(resolved);
        const position = event ? positionOf(event) : undefined;
        if (event && position !== undefined && position > after && matchesFilter(event, filter)) {
          lastPosition = position;
          yield toRecordedEvent(event, this.#codec, position);
        }
        if (this.#closed) return;
        if (caughtUpAfter !== undefined && received >= caughtUpAfter) callCaughtUp();
      }
    } catch (error) {
      if (this.#closed) return;
      throw this.#asStoreError(error);
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const subscription = this.#subscription;
    if (!subscription) return;
    await subscription.unsubscribe().catch(() => {});
    // Ends a for-await that waits for the next event.
    subscription.destroy();
  }
}
