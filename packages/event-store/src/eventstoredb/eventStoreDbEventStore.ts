import {
  BACKWARDS,
  END,
  type RecordedEvent as EsdbRecordedEvent,
  excludeSystemEvents,
  FORWARDS,
  KurrentDBClient,
  START,
  WrongExpectedVersionError,
} from '@kurrent/kurrentdb-client';
import type { EventCodec } from '../codec.ts';
import { encodeAppend, encodeAppends } from '../encodeEvent.ts';
import type { AppendResult, ExpectedRevision, NewEvent, RecordedEvent } from '../envelope.ts';
import {
  EventIdConflictError,
  StoreClosedError,
  StoreUnavailableError,
  WrongExpectedRevisionError,
} from '../errors.ts';
import type {
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  StoreInfo,
  StreamAppend,
  SubscribeOptions,
  Subscription,
} from '../eventStore.ts';
import { satisfiesExpected } from '../expectedRevision.ts';
import { asEventStoreDbError } from './eventStoreDbErrors.ts';
import { EventStoreDbSubscription } from './eventStoreDbSubscription.ts';
import {
  fingerprint,
  matchesFilter,
  ownEventOf,
  positionOf,
  readPositionAfter,
  redactUrl,
  serverFilterOf,
  streamStateOf,
  toEventData,
  toRecordedEvent,
} from './mapping.ts';
import { StreamIdIndex } from './streamIdIndex.ts';

export interface EventStoreDbEventStoreOptions {
  /** Connection string, e.g. kurrentdb://localhost:2113?tls=false (esdb:// works too). */
  url: string;
  codec: EventCodec;
  /** Refuse appends (e.g. for `ds01 store stats`). */
  readOnly?: boolean;
}

/** How often an append with 'any' or 'stream_exists' re-reads the stream when others keep writing. */
const MAX_APPEND_ATTEMPTS = 50;

/**
 * The EventStore port on EventStoreDB (KurrentDB), for production and for more than one machine.
 * See mapping.ts for how the envelope, revisions and positions map. Differences that remain:
 * event ids are unique per stream, not across streams (ESDB has no lookup by event id), and
 * countEvents() reads the whole log (ESDB keeps no count).
 */
export class EventStoreDbEventStore implements EventStore {
  readonly info: StoreInfo;
  readonly #client: KurrentDBClient;
  readonly #codec: EventCodec;
  readonly #readOnly: boolean;
  readonly #ids: StreamIdIndex;
  readonly #subscriptions = new Set<EventStoreDbSubscription>();
  /** Appends not answered yet, for close() to wait on before it disposes of the client. */
  readonly #inFlight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;

  constructor(options: EventStoreDbEventStoreOptions) {
    const location = redactUrl(options.url);
    this.info = { kind: 'eventstoredb', location };
    this.#codec = options.codec;
    this.#readOnly = options.readOnly ?? false;
    // The client warns on stderr about the older esdb:// scheme: same server, same meaning.
    const url = options.url.replace(/^esdb(\+discover)?:\/\//, 'kurrentdb$1://');
    try {
      this.#client = KurrentDBClient.connectionString(url);
    } catch (error) {
      throw new StoreUnavailableError(
        location,
        `is not a valid connection string (${(error as Error).message}): use kurrentdb://host:2113?tls=false`,
        { cause: error },
      );
    }
    this.#ids = new StreamIdIndex((streamId, from) => this.#readRaw(streamId, from));
  }

  /**
   * Checks which events are already in the stream (idempotency), then appends the rest with the
   * stream's exact revision, whatever the caller expected: a concurrent writer then makes ESDB
   * refuse, and we look again. After the append, reading the new events back confirms they are
   * ours and not ESDB's silent dedup of other events with the same ids.
   */
  append(
    streamId: string,
    events: readonly NewEvent[],
    options: { expectedRevision?: ExpectedRevision } = {},
  ): Promise<AppendResult> {
    if (this.#closing) return Promise.reject(new StoreClosedError(this.info.location));
    const appending = this.#append(streamId, events, options);
    this.#inFlight.add(appending);
    const settled = () => this.#inFlight.delete(appending);
    appending.then(settled, settled);
    return appending;
  }

  /**
   * NOT atomic across streams: EventStoreDB has no transaction spanning streams (KurrentDB 25.1's
   * multiStreamAppend has one, but only for metadata of plain strings, and no server to prove it against
   * can run here). The streams are appended one after another, each atomically with its expected
   * revision; a refusal stops the batch there, leaving the streams before it written. Since every
   * append is idempotent by event id, the caller's retry of the whole batch completes it without
   * duplicating anything, which is what DS01's callers (reconciliation) rely on.
   */
  async appendMany(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    if (this.#closing) throw new StoreClosedError(this.info.location);
    encodeAppends(this.#codec, appends);
    const results: AppendResult[] = [];
    for (const { streamId, events, expectedRevision } of appends)
      results.push(await this.append(streamId, events, { expectedRevision: expectedRevision ?? 'any' }));
    return results;
  }

  async #append(
    streamId: string,
    events: readonly NewEvent[],
    options: { expectedRevision?: ExpectedRevision },
  ): Promise<AppendResult> {
    const expected = options.expectedRevision ?? 'any';
    const encoded = encodeAppend(this.#codec, streamId, events, expected);
    if (this.#readOnly)
      throw new StoreUnavailableError(this.info.location, 'was opened read-only: appends are refused');
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      const known = await this.#guard(() => this.#ids.refresh(streamId));
      const fresh = encoded.filter((event) => !this.#alreadyAppended(streamId, event, known.ids));
      if (fresh.length === 0) {
        const last = known.ids.get(encoded.at(-1)!.eventId)!;
        return { nextExpectedRevision: known.revision as number, position: last.position };
      }
      if (!satisfiesExpected(expected, known.revision)) {
        throw new WrongExpectedRevisionError(streamId, expected, known.revision);
      }
      try {
        await this.#client.appendToStream(streamId, fresh.map(toEventData), {
          streamState: streamStateOf(known.revision),
        });
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) continue;
        throw asEventStoreDbError(this.info.location, error);
      }
      const after = await this.#guard(() => this.#ids.refresh(streamId));
      for (const event of fresh) this.#alreadyAppended(streamId, event, after.ids);
      const last = after.ids.get(encoded.at(-1)!.eventId);
      if (!last)
        throw new StoreUnavailableError(
          this.info.location,
          `did not return the events just appended to ${streamId}`,
        );
      return { nextExpectedRevision: last.revision, position: last.position };
    }
    const current = await this.streamRevision(streamId);
    throw new WrongExpectedRevisionError(streamId, expected, current);
  }

  /** Whether this very event is in the stream already; throws when its id names another event. */
  #alreadyAppended(
    streamId: string,
    event: { eventId: string; type: string; data: string },
    ids: Map<string, { revision: number; fingerprint: string }>,
  ): boolean {
    const known = ids.get(event.eventId);
    if (!known) return false;
    if (known.fingerprint !== fingerprint(event.type, event.data)) {
      throw new EventIdConflictError(
        event.eventId,
        streamId,
        `with a different payload (at revision ${known.revision}): an event id names one fact, give a new fact a new id`,
      );
    }
    return true;
  }

  async *#readRaw(streamId: string, fromRevision: number): AsyncIterable<EsdbRecordedEvent> {
    try {
      for await (const resolved of this.#client.readStream(streamId, {
        fromRevision: BigInt(fromRevision),
      })) {
        if (resolved.event) yield resolved.event;
      }
    } catch (error) {
      if (isStreamNotFound(error)) return;
      throw asEventStoreDbError(this.info.location, error);
    }
  }

  async streamRevision(streamId: string): Promise<number | 'no_stream'> {
    for await (const event of this.readStream(streamId, { direction: 'backwards', maxCount: 1 }))
      return event.revision;
    return 'no_stream';
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    const forwards = (options.direction ?? 'forwards') === 'forwards';
    if (options.maxCount === 0) return;
    const reading = this.#client.readStream(streamId, {
      direction: forwards ? FORWARDS : BACKWARDS,
      fromRevision:
        options.fromRevision === undefined ? (forwards ? START : END) : BigInt(options.fromRevision),
      ...(options.maxCount === undefined ? {} : { maxCount: options.maxCount }),
    });
    try {
      for await (const resolved of reading) {
        const event = resolved.event;
        if (!event) continue;
        yield toRecordedEvent(event, this.#codec, this.#positionOf(event));
      }
    } catch (error) {
      if (isStreamNotFound(error)) return;
      throw asEventStoreDbError(this.info.location, error);
    }
  }

  async readBatch(options: ReadAllOptions & { maxCount: number }): Promise<RecordedEvent[]> {
    const batch: RecordedEvent[] = [];
    for await (const event of this.readAll(options)) batch.push(event);
    return batch;
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    const after = options.after ?? 0;
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    if (remaining <= 0) return;
    const reading = this.#client.readAll({
      fromPosition: readPositionAfter(after),
      filter: serverFilterOf(options.filter),
    });
    try {
      for await (const resolved of reading) {
        const event = ownEventOf(resolved);
        if (!event || !matchesFilter(event, options.filter)) continue;
        const position = this.#positionOf(event);
        if (position <= after) continue;
        yield toRecordedEvent(event, this.#codec, position);
        if (--remaining <= 0) return;
      }
    } catch (error) {
      throw asEventStoreDbError(this.info.location, error);
    }
  }

  async headPosition(): Promise<number> {
    try {
      for await (const resolved of this.#client.readAll({
        direction: BACKWARDS,
        fromPosition: END,
        maxCount: 1,
        filter: excludeSystemEvents(),
      })) {
        if (resolved.event) return this.#positionOf(resolved.event);
      }
      return 0;
    } catch (error) {
      throw asEventStoreDbError(this.info.location, error);
    }
  }

  async countEvents(): Promise<number> {
    let count = 0;
    try {
      for await (const resolved of this.#client.readAll({ filter: excludeSystemEvents() })) {
        if (ownEventOf(resolved)) count += 1;
      }
    } catch (error) {
      throw asEventStoreDbError(this.info.location, error);
    }
    return count;
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    const subscription = new EventStoreDbSubscription(this.#client, this.#codec, options, (error) =>
      asEventStoreDbError(this.info.location, error),
    );
    this.#subscriptions.add(subscription);
    return subscription;
  }

  /** Refuses new appends (StoreClosedError), lets those in flight finish, then disconnects. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled(this.#inFlight);
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.close()));
    this.#subscriptions.clear();
    await this.#client.dispose();
  }

  #positionOf(event: EsdbRecordedEvent): number {
    const position = positionOf(event);
    if (position === undefined) {
      throw new StoreUnavailableError(
        this.info.location,
        'returns events without their log position: DS01 needs EventStoreDB 22.6 or later',
      );
    }
    return position;
  }

  async #guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw asEventStoreDbError(this.info.location, error);
    }
  }
}

function isStreamNotFound(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'StreamNotFoundError' || error.constructor.name === 'StreamNotFoundError')
  );
}
