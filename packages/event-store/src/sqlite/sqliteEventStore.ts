import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { EventCodec } from '../codec.ts';
import { encodeAppend, encodeAppends } from '../encodeEvent.ts';
import type { AppendResult, ExpectedRevision, NewEvent, RecordedEvent } from '../envelope.ts';
import { StoreClosedError, StoreUnavailableError } from '../errors.ts';
import type {
  EventFilter,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  StoreInfo,
  StreamAppend,
  SubscribeOptions,
  Subscription,
} from '../eventStore.ts';
import { AppendWakeups } from '../subscription/appendWakeups.ts';
import { PollingSubscription } from '../subscription/pollingSubscription.ts';
import { checkSchema, createSchema } from './schema.ts';
import { type PackedAppend, packAppend, REVISION_SQL, revisionOf } from './sqliteAppender.ts';
import { asStoreError } from './sqliteErrors.ts';
import { SqliteWriter } from './sqliteWriter.ts';
import { StatementCache } from './statementCache.ts';
import { openDatabase, prepareStoreFile } from './storeFile.ts';

/** Rows per query when reading the log or a stream: bounds memory, not correctness. */
const READ_PAGE_SIZE = 1000;
/**
 * An append of more events than this is sent to the writer thread in parts of this many (see
 * #appendStreamed): small enough that the thread starts inserting early, large enough that a
 * message per part costs little next to the part's validation.
 */
const STREAM_PART_EVENTS = 50;
/** Rows per query of a subscription catching up. */
const SUBSCRIPTION_PAGE_SIZE = 500;

export interface SqliteEventStoreOptions {
  /** File of the store; created (with its folder) on first use. */
  path: string;
  codec: EventCodec;
  /** How long a write waits for another process's write to finish before giving up (default 5 s). */
  busyTimeoutMs?: number;
  /** How often a subscription looks for events written by other processes (default 100 ms). */
  pollIntervalMs?: number;
  /** Open without creating or writing (e.g. for `ds01 store stats`). */
  readOnly?: boolean;
}

/**
 * What reads fetch, as arrays rather than objects: a page of a thousand rows then costs no
 * per-row object with eight named properties (a rebuild spends a good part of its time there).
 * The event id is left out: it is in the metadata.
 */
const READ_COLUMNS = 'position, stream_id, revision, type, version, data, metadata';
type ReadRow = [
  position: number,
  streamId: string,
  revision: number,
  type: string,
  version: number,
  data: string,
  metadata: string,
];

/**
 * The embedded event store: one SQLite file in WAL mode, synchronous=FULL so that an acknowledged
 * append survives a crash or power loss. Several processes may open the same file: SQLite's write
 * lock serialises appends (BEGIN IMMEDIATE), which is what makes expected-revision checks atomic
 * across processes and log positions strictly increasing in commit order. Readers never wait for
 * writers (WAL).
 */
export class SqliteEventStore implements EventStore {
  readonly info: StoreInfo;
  readonly #path: string;
  readonly #codec: EventCodec;
  readonly #db: DatabaseSync;
  readonly #pollIntervalMs: number;
  /** Wakes this process's subscriptions at its own appends (others' are found by polling). */
  readonly #wakeups = new AppendWakeups();
  readonly #subscriptions = new Set<PollingSubscription>();
  /** Prepared statements by SQL text: filters and read directions each get their own, once. */
  readonly #statements: StatementCache;
  /** The same for reads of READ_COLUMNS, which return rows as arrays. */
  readonly #readStatements: StatementCache;
  readonly #readOnly: boolean;
  readonly #busyTimeoutMs: number;
  /** Started by the first append. */
  #writer: SqliteWriter | undefined;
  /** Set when close() begins: later appends are refused before anything is sent to the writer. */
  #closing: Promise<void> | undefined;

  constructor(options: SqliteEventStoreOptions) {
    const { path, codec } = options;
    const readOnly = options.readOnly ?? false;
    this.#path = path;
    this.#codec = codec;
    this.#pollIntervalMs = options.pollIntervalMs ?? 100;
    this.#readOnly = readOnly;
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.info = { kind: 'sqlite', location: path };
    let isNew = prepareStoreFile(path, readOnly) === 'new';
    // A file that exists is checked through a read-only connection first: a foreign or damaged
    // database must come out of this with every byte unchanged (switching to WAL would write).
    if (!isNew) {
      // With the busy timeout of every other connection: after a crash the first opener recovers the WAL
      // under an exclusive lock, and a CLI command or ds01d starting meanwhile must wait, not fail.
      const options = { readOnly: true, timeout: this.#busyTimeoutMs };
      isNew = withDatabase(path, options, (db) => checkSchema(db, path)) === 'empty';
    }
    if (isNew && readOnly)
      throw new StoreUnavailableError(path, 'is not initialised yet: start ds01d once, or check --data-dir');
    this.#db = openDatabase(path, readOnly, this.#busyTimeoutMs);
    this.#statements = new StatementCache(this.#db);
    this.#readStatements = new StatementCache(this.#db, (statement) => statement.setReturnArrays(true));
    try {
      if (isNew) createSchema(this.#db);
      else checkSchema(this.#db, path);
    } catch (error) {
      this.#db.close();
      throw asStoreError(path, error);
    }
  }

  /**
   * Appends go to the store's writer thread, which commits every append that arrives while it is busy
   * in one transaction with one fsync (each inside a savepoint of its own, so each still succeeds or
   * fails alone, in the order asked). The fsync, tens of milliseconds on a disk shared with dockerd,
   * then blocks neither this thread's event loop nor the appends queued behind it.
   */
  async append(
    streamId: string,
    events: readonly NewEvent[],
    options: { expectedRevision?: ExpectedRevision } = {},
  ): Promise<AppendResult> {
    if (this.#closing) throw new StoreClosedError(this.#path);
    if (this.#readOnly) throw new StoreUnavailableError(this.#path, 'is open read-only: appends are refused');
    const expected = options.expectedRevision ?? 'any';
    if (events.length > STREAM_PART_EVENTS) return this.#appendStreamed(streamId, events, expected);
    const encoded = encodeAppend(this.#codec, streamId, events, expected);
    const [result] = await this.#commit([packAppend(streamId, expected, encoded)]);
    return result!;
  }

  /**
   * A large append, validated and sent part by part: the writer thread inserts part k inside the
   * append's transaction while this thread validates part k+1, so validation and SQLite's work
   * overlap instead of adding up. A part that fails validation aborts the transaction: nothing is
   * written, as for a whole append.
   */
  async #appendStreamed(
    streamId: string,
    events: readonly NewEvent[],
    expected: ExpectedRevision,
  ): Promise<AppendResult> {
    // The first part is validated before the thread is involved: an append refused outright costs it nothing.
    let part = encodeAppend(this.#codec, streamId, events.slice(0, STREAM_PART_EVENTS), expected);
    this.#writer ??= new SqliteWriter(this.#path, this.#busyTimeoutMs);
    const stream = this.#writer.stream();
    try {
      for (let start = STREAM_PART_EVENTS; ; start += STREAM_PART_EVENTS) {
        const last = start >= events.length;
        stream.send(packAppend(streamId, expected, part), last);
        if (last) break;
        part = encodeAppend(this.#codec, streamId, events.slice(start, start + STREAM_PART_EVENTS), expected);
      }
    } catch (error) {
      stream.abort();
      throw error;
    }
    const { ok, inserted } = await stream.answered;
    if (inserted > 0) this.#wakeups.wake();
    return ok[0]!;
  }

  /** One request to the writer thread, so the batch is one savepoint of a group: all or nothing. */
  async appendMany(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    if (this.#closing) throw new StoreClosedError(this.#path);
    if (this.#readOnly) throw new StoreUnavailableError(this.#path, 'is open read-only: appends are refused');
    const encoded = encodeAppends(this.#codec, appends);
    if (encoded.length === 0) return [];
    return this.#commit(
      encoded.map(({ streamId, expected, encoded }) => packAppend(streamId, expected, encoded)),
    );
  }

  async #commit(appends: PackedAppend[]): Promise<AppendResult[]> {
    this.#writer ??= new SqliteWriter(this.#path, this.#busyTimeoutMs);
    const { ok, inserted } = await this.#writer.append(appends);
    if (inserted > 0) {
      this.#wakeups.wake();
    }
    return ok;
  }

  async streamRevision(streamId: string): Promise<number | 'no_stream'> {
    return this.#guard(() => revisionOf(this.#statement(REVISION_SQL), streamId));
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    const forwards = (options.direction ?? 'forwards') === 'forwards';
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    let next = options.fromRevision ?? (forwards ? 0 : Number.MAX_SAFE_INTEGER);
    const sql = forwards
      ? `SELECT ${READ_COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?`
      : `SELECT ${READ_COLUMNS} FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`;
    while (remaining > 0) {
      const limit = Math.min(READ_PAGE_SIZE, remaining);
      const events = this.#guard(() =>
        (this.#readStatement(sql).all(streamId, next, limit) as unknown as ReadRow[]).map((row) =>
          this.#decode(row),
        ),
      );
      for (const event of events) yield event;
      remaining -= events.length;
      if (events.length < limit) return;
      next = events.at(-1)!.revision + (forwards ? 1 : -1);
    }
  }

  async readBatch(options: ReadAllOptions & { maxCount: number }): Promise<RecordedEvent[]> {
    return this.readPage(options.after ?? 0, options.filter, options.maxCount, options.revalidate).events;
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    let after = options.after ?? 0;
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      const limit = Math.min(READ_PAGE_SIZE, remaining);
      const page = this.readPage(after, options.filter, limit, options.revalidate);
      for (const event of page.events) yield event;
      remaining -= page.events.length;
      if (page.events.length < limit) return;
      after = page.scannedTo;
    }
  }

  /**
   * One page of the log after a position, at most `limit` events. scannedTo is how far the log was
   * looked at: the head when the page is the last one, so that a filtered subscription does not scan
   * the same skipped events again.
   */
  readPage(
    after: number,
    filter: EventFilter | undefined,
    limit: number,
    revalidate = true,
  ): { events: RecordedEvent[]; scannedTo: number } {
    return this.#guard(() => {
      // Bounded by the head read first: an append committed meanwhile is left for the next page,
      // so "scanned to the head" is true of exactly what this page looked at.
      const { head } = this.#statement('SELECT coalesce(max(position), 0) AS head FROM events').get() as {
        head: number;
      };
      const { sql, params } = filterSql(filter);
      const rows = this.#readStatement(
        `SELECT ${READ_COLUMNS} FROM events WHERE position > ? AND position <= ?${sql} ORDER BY position ASC LIMIT ?`,
      ).all(after, head, ...params, limit) as unknown as ReadRow[];
      const scannedTo = rows.length < limit ? Math.max(head, after) : rows.at(-1)![0];
      const decode = revalidate ? this.#decodeData : this.#decodeStored;
      return { events: rows.map((row) => this.#decode(row, decode)), scannedTo };
    });
  }

  readonly #decodeData = (type: string, version: number, data: unknown) =>
    this.#codec.decode(type, version, data);
  readonly #decodeStored = (type: string, version: number, data: unknown) =>
    (this.#codec.decodeStored ?? this.#codec.decode).call(this.#codec, type, version, data);

  #decode(
    [position, streamId, revision, type, version, data, metadata]: ReadRow,
    decode: EventCodec['decode'] = this.#decodeData,
  ): RecordedEvent {
    const decoded = decode(type, version, JSON.parse(data));
    return {
      type,
      version: decoded.version,
      data: decoded.data,
      metadata: JSON.parse(metadata),
      streamId,
      revision,
      position,
    };
  }

  async headPosition(): Promise<number> {
    return this.#guard(
      () =>
        (this.#statement('SELECT coalesce(max(position), 0) AS head FROM events').get() as { head: number })
          .head,
    );
  }

  async countEvents(): Promise<number> {
    return this.#guard(() => (this.#statement('SELECT count(*) AS n FROM events').get() as { n: number }).n);
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    const subscription = new PollingSubscription({
      ...options,
      source: {
        readPage: (after, filter, limit) => this.readPage(after, filter, limit),
        appendCount: () => this.#wakeups.count,
        waitForAppend: (ms) => this.#wakeups.wait(ms),
      },
      pollIntervalMs: this.#pollIntervalMs,
      pageSize: SUBSCRIPTION_PAGE_SIZE,
      onClose: () => this.#subscriptions.delete(subscription),
    });
    this.#subscriptions.add(subscription);
    return subscription;
  }

  /**
   * Appends accepted before close() began are committed and acknowledged; appends asked for after
   * it are refused with StoreClosedError and never written. So an append is acknowledged if and
   * only if it is on the log, during close() too.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    // Synchronously, before any await: the writer refuses from this very moment.
    await this.#writer?.close();
    await Promise.all([...this.#subscriptions].map((s) => s.close()));
    this.#statements.clear();
    this.#readStatements.clear();
    if (this.#db.isOpen) this.#db.close();
  }

  #statement(sql: string): StatementSync {
    return this.#statements.get(sql);
  }

  #readStatement(sql: string): StatementSync {
    return this.#readStatements.get(sql);
  }

  #guard<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw asStoreError(this.#path, error);
    }
  }
}

/** SQL for a filter; the text depends only on how many types and prefixes, so statements are reused. */
function filterSql(filter: EventFilter | undefined): { sql: string; params: SQLInputValue[] } {
  const clauses: string[] = [];
  const params: SQLInputValue[] = [];
  if (filter?.eventTypes?.length) {
    // A scan in position order: an index on type would make SQLite collect every remaining match of
    // every type and sort them for each page, which grows with the square of the log during a
    // catch-up (and costs every append an index write). The `+` keeps it so should one be added.
    clauses.push(`+type IN (${filter.eventTypes.map(() => '?').join(', ')})`);
    params.push(...filter.eventTypes);
  }
  if (filter?.streamPrefixes?.length) {
    // substr() counts characters (code points) and compares exactly; LIKE would treat '_' and '%' in
    // a prefix as wildcards. The scan stays in position order, which is what a page reads anyway.
    clauses.push(`(${filter.streamPrefixes.map(() => 'substr(stream_id, 1, ?) = ?').join(' OR ')})`);
    for (const prefix of filter.streamPrefixes) params.push([...prefix].length, prefix);
  }
  return { sql: clauses.map((c) => ` AND ${c}`).join(''), params };
}

function withDatabase<T>(
  path: string,
  options: { readOnly: boolean; timeout?: number },
  work: (db: DatabaseSync) => T,
): T {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, options);
    return work(db);
  } catch (error) {
    throw asStoreError(path, error);
  } finally {
    db?.close();
  }
}
