import pg from 'pg';
import type { EventCodec } from '../codec.ts';
import { type EncodedStreamAppend, encodeAppend, encodeAppends } from '../encodeEvent.ts';
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
import { PollingSubscription } from '../subscription/pollingSubscription.ts';
import { AppendListener } from './appendListener.ts';
import { type PostgresTarget, postgresTarget } from './connection.ts';
import { type AppendStatements, appendStatements, commitGroup } from './postgresAppender.ts';
import { asPostgresError, isTransient } from './postgresErrors.ts';
import { prepareSchema } from './schema.ts';

const READ_PAGE_SIZE = 1000;
const SUBSCRIPTION_PAGE_SIZE = 500;
const MAX_BACKOFF_MS = 2_000;
/** Requests committed together at most (appends asked for while a commit was on its way). */
const MAX_GROUP = 200;

interface QueuedAppend {
  encoded: EncodedStreamAppend[];
  resolve(results: AppendResult[]): void;
  reject(error: unknown): void;
}

export interface PostgresEventStoreOptions {
  /** postgres://user:password@host:5432/database?schema=ds01 (see connection.ts). */
  url: string;
  codec: EventCodec;
  /** Schema of the log's tables; wins over the url's `schema` parameter (tests give each log its own). */
  schema?: string;
  /** Refuse appends and create nothing (e.g. for `ds01 store stats`). */
  readOnly?: boolean;
  /**
   * How long an append or a read keeps retrying while the server cannot be reached (restarting, failing
   * over) before it fails with StoreUnavailableError. Default 30 s. Subscriptions retry for as long as
   * they are open.
   */
  unavailableTimeoutMs?: number;
  /** How often a subscription reads again when no notification came (a safety net). Default 1 s. */
  pollIntervalMs?: number;
  /** Connections in the pool (default 8); appends use one at a time, readers the others. */
  maxConnections?: number;
}

/** What reads fetch, as arrays: position, stream, revision, type, version, data (parsed), metadata (parsed). */
const READ_COLUMNS = 'position, stream_id, revision, type, version, data, metadata';
type ReadRow = [number, string, number, string, number, unknown, RecordedEvent['metadata']];

/** bigint columns as numbers (positions and revisions stay far below 2^53), everything else as pg parses it. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? Number
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/**
 * The EventStore port on PostgreSQL, for several hosts sharing one log on a server labs already run
 * (with replication and failover). One schema holds one log. Appends take the log's advisory lock (see
 * postgresAppender.ts: positions in commit order, expected revisions checked atomically across hosts)
 * and send a NOTIFY at commit that wakes every host's subscriptions. Appends from one store are committed
 * in the order asked; those asked for while a commit is on its way share the next one. A server that goes away is waited for (unavailableTimeoutMs):
 * a resent append is idempotent by event id, so a commit whose answer was lost is not written twice.
 */
export class PostgresEventStore implements EventStore {
  readonly info: StoreInfo;
  readonly #target: PostgresTarget;
  readonly #codec: EventCodec;
  readonly #readOnly: boolean;
  readonly #unavailableTimeoutMs: number;
  readonly #pollIntervalMs: number;
  readonly #pool: pg.Pool;
  readonly #clientConfig: pg.ClientConfig;
  readonly #statements: AppendStatements;
  readonly #subscriptions = new Set<PollingSubscription>();
  /** Appends asked for and not committed yet, in the order asked. */
  readonly #queue: QueuedAppend[] = [];
  #draining: Promise<void> | undefined;
  readonly #inFlight = new Set<Promise<unknown>>();
  #listener: AppendListener | undefined;
  #ready: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /** Set when a call gave up waiting for the server; cleared by the next call that reaches it. */
  #unreachable = false;

  constructor(options: PostgresEventStoreOptions) {
    this.#target = postgresTarget(options.url, options.schema);
    this.info = { kind: 'postgres', location: this.#target.location };
    this.#codec = options.codec;
    this.#readOnly = options.readOnly ?? false;
    this.#unavailableTimeoutMs = options.unavailableTimeoutMs ?? 30_000;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.#clientConfig = {
      connectionString: this.#target.connectionString,
      application_name: 'ds01',
      connectionTimeoutMillis: 5_000,
      // A deadline on every statement, the wait for the append lock included.
      statement_timeout: 30_000,
      keepAlive: true,
      types: TYPES,
    };
    this.#pool = new pg.Pool({
      ...this.#clientConfig,
      max: options.maxConnections ?? 8,
      idleTimeoutMillis: 10_000,
    });
    // A pooled connection the server closed while idle: the pool drops it; the next query makes another.
    this.#pool.on('error', () => {});
    this.#statements = appendStatements(this.#target);
  }

  append(
    streamId: string,
    events: readonly NewEvent[],
    options: { expectedRevision?: ExpectedRevision } = {},
  ): Promise<AppendResult> {
    const expected = options.expectedRevision ?? 'any';
    return this.#enqueue(() => [
      { streamId, expected, encoded: encodeAppend(this.#codec, streamId, events, expected) },
    ]).then((results) => results[0]!);
  }

  appendMany(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    return this.#enqueue(() => encodeAppends(this.#codec, appends));
  }

  /** Validates at once (a refused append never waits in the queue), then appends in the order asked. */
  #enqueue(encode: () => EncodedStreamAppend[]): Promise<AppendResult[]> {
    if (this.#closing) return Promise.reject(new StoreClosedError(this.info.location));
    if (this.#readOnly)
      return Promise.reject(
        new StoreUnavailableError(this.info.location, 'is open read-only: appends are refused'),
      );
    let encoded: EncodedStreamAppend[];
    try {
      encoded = encode();
    } catch (error) {
      return Promise.reject(error);
    }
    if (encoded.length === 0) return Promise.resolve([]);
    const { promise, resolve, reject } = Promise.withResolvers<AppendResult[]>();
    this.#queue.push({ encoded, resolve, reject });
    this.#draining ??= this.#drain();
    this.#inFlight.add(promise);
    const settled = () => this.#inFlight.delete(promise);
    promise.then(settled, settled);
    return promise;
  }

  /**
   * Commits the queue group by group: what was asked for while a commit was on its way goes in the next
   * one, together (commitGroup). A server that cannot be reached is waited for, then the group is sent
   * again: each of its events is idempotent by id, so a group whose commit did happen is not written twice.
   */
  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const group = this.#queue.splice(0, MAX_GROUP);
      try {
        const outcomes = await this.#withClient(
          (client) =>
            commitGroup(
              client,
              this.#statements,
              group.map((append) => append.encoded),
            ),
          this.#untilDeadline(),
        );
        let inserted = 0;
        for (const [i, outcome] of outcomes.entries()) {
          if ('ok' in outcome) {
            inserted += outcome.ok.inserted;
            group[i]!.resolve(outcome.ok.results);
          } else group[i]!.reject(outcome.error);
        }
        // This store's subscriptions need not wait for the notification to come back from the server.
        if (inserted > 0) this.#listener?.wake();
      } catch (error) {
        for (const append of group) append.reject(error);
      }
    }
    this.#draining = undefined;
  }

  async streamRevision(streamId: string): Promise<number | 'no_stream'> {
    const { rows } = await this.#query<[number | null]>(
      `SELECT max(revision) FROM ${this.#table} WHERE stream_id = $1`,
      [streamId],
    );
    return rows[0]?.[0] ?? 'no_stream';
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    const forwards = (options.direction ?? 'forwards') === 'forwards';
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    let next = options.fromRevision ?? (forwards ? 0 : Number.MAX_SAFE_INTEGER);
    const sql = forwards
      ? `SELECT ${READ_COLUMNS} FROM ${this.#table} WHERE stream_id = $1 AND revision >= $2 ORDER BY revision ASC LIMIT $3`
      : `SELECT ${READ_COLUMNS} FROM ${this.#table} WHERE stream_id = $1 AND revision <= $2 ORDER BY revision DESC LIMIT $3`;
    while (remaining > 0) {
      const limit = Math.min(READ_PAGE_SIZE, remaining);
      const { rows } = await this.#query<ReadRow>(sql, [streamId, next, limit]);
      const events = rows.map((row) => this.#decode(row));
      for (const event of events) yield event;
      remaining -= events.length;
      if (events.length < limit) return;
      next = events.at(-1)!.revision + (forwards ? 1 : -1);
    }
  }

  async readBatch(options: ReadAllOptions & { maxCount: number }): Promise<RecordedEvent[]> {
    return (await this.readPage(options.after ?? 0, options.filter, options.maxCount)).events;
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    let after = options.after ?? 0;
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      const limit = Math.min(READ_PAGE_SIZE, remaining);
      const page = await this.readPage(after, options.filter, limit);
      for (const event of page.events) yield event;
      remaining -= page.events.length;
      if (page.events.length < limit) return;
      after = page.scannedTo;
    }
  }

  /**
   * One page of the log after a position, in one statement (one snapshot): the head first, then at most
   * `limit` events up to it. Every position up to a visible head is visible (see postgresAppender.ts), so
   * "scanned to the head" holds of exactly what the page looked at, filtered or not.
   */
  async readPage(
    after: number,
    filter: EventFilter | undefined,
    limit: number,
    keepTrying: () => boolean = this.#untilDeadline(),
  ): Promise<{ events: RecordedEvent[]; scannedTo: number }> {
    const { sql, params } = filterSql(filter, 3);
    const { rows } = await this.#query<[number, ...ReadRow]>(
      `SELECT h.head, e.* FROM (SELECT coalesce(max(position), 0) AS head FROM ${this.#table}) h
         LEFT JOIN LATERAL (SELECT ${READ_COLUMNS} FROM ${this.#table}
           WHERE position > $1 AND position <= h.head${sql} ORDER BY position ASC LIMIT $2) e ON true`,
      [after, limit, ...params],
      keepTrying,
    );
    const head = rows[0]?.[0] ?? 0;
    const events = rows.filter((row) => row[1] !== null).map((row) => this.#decode(row.slice(1) as ReadRow));
    const scannedTo = events.length < limit ? Math.max(head, after) : events.at(-1)!.position;
    return { events, scannedTo };
  }

  #decode([position, streamId, revision, type, version, data, metadata]: ReadRow): RecordedEvent {
    const decoded = this.#codec.decode(type, version, data);
    return { type, version: decoded.version, data: decoded.data, metadata, streamId, revision, position };
  }

  async headPosition(): Promise<number> {
    const { rows } = await this.#query<[number]>(`SELECT coalesce(max(position), 0) FROM ${this.#table}`, []);
    return rows[0]![0];
  }

  async countEvents(): Promise<number> {
    const { rows } = await this.#query<[number]>(`SELECT count(*) FROM ${this.#table}`, []);
    return rows[0]![0];
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    this.#listener ??= new AppendListener(this.#clientConfig, this.#target.channel);
    const listener = this.#listener;
    const subscription: PollingSubscription = new PollingSubscription({
      ...options,
      source: {
        // A subscription waits out a server that went away for as long as it is open.
        readPage: (after, filter, limit) =>
          this.readPage(after, filter, limit, () => !subscription.closed && !this.#closing),
        appendCount: () => listener.count,
        waitForAppend: (ms) => listener.wait(ms),
      },
      pollIntervalMs: this.#pollIntervalMs,
      pageSize: SUBSCRIPTION_PAGE_SIZE,
      onClose: () => this.#subscriptions.delete(subscription),
    });
    this.#subscriptions.add(subscription);
    return subscription;
  }

  /**
   * Appends asked for before close() began are committed and acknowledged (or fail); later ones are
   * refused with StoreClosedError. Then the subscriptions end and the connections close.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled(this.#inFlight);
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.close()));
    await this.#listener?.close();
    await this.#pool.end().catch(() => {});
  }

  get #table(): string {
    return `"${this.#target.schema}".events`;
  }

  /**
   * For a call that waits for an unreachable server at most unavailableTimeoutMs from now; once one call
   * has waited that long in vain, the next ones try once and fail at once until the server answers again
   * (a command of several calls does not wait for each in turn).
   */
  #untilDeadline(): () => boolean {
    const deadline = Date.now() + (this.#unreachable ? 0 : this.#unavailableTimeoutMs);
    return () => {
      const waiting = Date.now() < deadline;
      if (!waiting) this.#unreachable = true;
      return waiting;
    };
  }

  #query<Row extends unknown[]>(
    text: string,
    values: unknown[],
    keepTrying: () => boolean = this.#untilDeadline(),
  ): Promise<pg.QueryResult<Row>> {
    return this.#withClient((client) => client.query<Row>({ text, values, rowMode: 'array' }), keepTrying);
  }

  /**
   * Runs `work` on a pooled connection, the log's schema prepared first. While the server cannot be
   * reached it tries again, backing off, as long as `keepTrying` says so; other errors are translated
   * and thrown at once.
   */
  async #withClient<T>(work: (client: pg.PoolClient) => Promise<T>, keepTrying: () => boolean): Promise<T> {
    let backoffMs = 50;
    for (;;) {
      let client: pg.PoolClient | undefined;
      // The connection may break between two queries of a transaction: the client then emits 'error'
      // (which would crash the process unheard) and the next query fails, which is what is handled here.
      const ignore = () => {};
      try {
        client = await this.#pool.connect();
        client.on('error', ignore);
        await this.#prepare(client);
        const result = await work(client);
        client.off('error', ignore);
        client.release();
        this.#unreachable = false;
        return result;
      } catch (error) {
        const transient = isTransient(error);
        client?.off('error', ignore);
        // A connection that failed under a query is not given back to the pool.
        client?.release(transient ? true : undefined);
        if (!transient || !keepTrying()) throw asPostgresError(this.info.location, error);
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
      }
    }
  }

  /** Creates or checks the log's tables once per store, on the first connection that works. */
  async #prepare(client: pg.PoolClient): Promise<void> {
    this.#ready ??= prepareSchema(client, this.#target, this.#readOnly).catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    await this.#ready;
  }
}

/** SQL for a filter, its parameters numbered from `first`; the text depends only on how many prefixes. */
function filterSql(filter: EventFilter | undefined, first: number): { sql: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (filter?.eventTypes?.length) {
    params.push(filter.eventTypes);
    clauses.push(`type = ANY($${first + params.length - 1}::text[])`);
  }
  if (filter?.streamPrefixes?.length) {
    // starts_with compares literally: LIKE would read '_' and '%' in a prefix as wildcards.
    const matches = filter.streamPrefixes.map((prefix) => {
      params.push(prefix);
      return `starts_with(stream_id, $${first + params.length - 1}::text)`;
    });
    clauses.push(`(${matches.join(' OR ')})`);
  }
  return { sql: clauses.map((c) => ` AND ${c}`).join(''), params };
}
