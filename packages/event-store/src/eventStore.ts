import type { AppendResult, ExpectedRevision, NewEvent, RecordedEvent } from './envelope.ts';

/** Which events a read of the whole log or a subscription delivers. Both filters may be combined. */
export interface EventFilter {
  /** Only streams whose id starts with one of these prefixes (e.g. 'container-'). */
  streamPrefixes?: readonly string[];
  /** Only these event types. */
  eventTypes?: readonly string[];
}

export interface ReadStreamOptions {
  direction?: 'forwards' | 'backwards';
  /** First revision to read (inclusive). Default: the start (forwards) or the end (backwards). */
  fromRevision?: number;
  maxCount?: number;
}

export interface ReadAllOptions {
  /** Read events strictly after this log position. 0 (the default) reads from the start. */
  after?: number;
  filter?: EventFilter;
  maxCount?: number;
  /**
   * false: an event stored at its type's current version comes back as stored, its data not parsed
   * by the schema again (it was validated by that very schema version when appended; see
   * EventCodec.decodeStored); older versions are still upcast and validated. For bulk replays such
   * as a projection rebuild, where that second parse is most of the cost. An adapter may validate
   * anyway. Default true.
   */
  revalidate?: boolean;
}

export interface SubscribeOptions {
  /** Deliver events strictly after this log position: catch up from there, then stay live. */
  after?: number;
  filter?: EventFilter;
  /** Called once when the subscription has delivered everything that was in the log at that moment. */
  onCaughtUp?: (position: number) => void;
}

/** A live feed of events. Iterate it; close() ends the iteration. */
export interface Subscription extends AsyncIterable<RecordedEvent> {
  close(): Promise<void>;
}

/** One stream's part of a multi-stream append (appendMany). */
export interface StreamAppend {
  streamId: string;
  events: readonly NewEvent[];
  /** What the stream must be at for the whole batch to be written (default 'any'). */
  expectedRevision?: ExpectedRevision;
}

export interface StoreInfo {
  kind: 'sqlite' | 'postgres' | 'eventstoredb';
  /** File path or connection string (credentials removed). */
  location: string;
}

/**
 * The one port to the log. Every watcher and command writes through it, every view is derived
 * from it. Adapters: SQLite (embedded default), PostgreSQL and EventStoreDB.
 */
export interface EventStore {
  readonly info: StoreInfo;
  /**
   * Appends events atomically to one stream if it is at the expected revision.
   * Idempotent by event id: an event whose id is already in this stream with the same type and data
   * is skipped (and when every event is, the append is a no-op that succeeds whatever the expected
   * revision); the same id with another stream or payload is an EventIdConflictError.
   */
  append(
    streamId: string,
    events: readonly NewEvent[],
    options?: { expectedRevision?: ExpectedRevision },
  ): Promise<AppendResult>;
  /**
   * Appends to several streams in one transaction: all or nothing. Each stream is checked against its
   * own expected revision and is idempotent by event id exactly as append() is; one refusal (a wrong
   * revision, an event id conflict) writes nothing of the batch and throws that stream's error. The
   * results are one per stream, in the order given, and the log positions follow that order. A stream
   * may appear once per batch (EventSchemaError otherwise); an empty batch writes nothing and returns [].
   * EventStoreDB has no multi-stream transaction: there it is atomic per stream only (see its adapter).
   */
  appendMany(appends: readonly StreamAppend[]): Promise<AppendResult[]>;
  /** Events of one stream, in revision order (or reverse). An absent stream reads as empty. */
  readStream(streamId: string, options?: ReadStreamOptions): AsyncIterable<RecordedEvent>;
  /** Revision of a stream's last event, or 'no_stream'. */
  streamRevision(streamId: string): Promise<number | 'no_stream'>;
  /** Events of the whole log in log order. */
  readAll(options?: ReadAllOptions): AsyncIterable<RecordedEvent>;
  /**
   * The next events of the whole log after `after`, at most `maxCount`, as one array: what readAll
   * with the same options yields. For batch consumers (a projection's catch-up), which would
   * otherwise pay one async-iterator step per event.
   */
  readBatch(options: ReadAllOptions & { maxCount: number }): Promise<RecordedEvent[]>;
  /** Position of the log's last event (0 when empty). */
  headPosition(): Promise<number>;
  /** Number of events in the log. */
  countEvents(): Promise<number>;
  subscribeToAll(options?: SubscribeOptions): Subscription;
  close(): Promise<void>;
}
