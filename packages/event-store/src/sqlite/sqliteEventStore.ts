import { EventEmitter } from 'node:events';
import { closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type { EventCodec } from '../codec.ts';
import type { AppendResult, ExpectedRevision, NewEvent, RecordedEvent } from '../envelope.ts';
import { EventMetadataInputSchema } from '../envelope.ts';
import {
  EventIdConflictError,
  EventSchemaError,
  StoreUnavailableError,
  WrongExpectedRevisionError,
} from '../errors.ts';
import type {
  EventFilter,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  StoreInfo,
  SubscribeOptions,
  Subscription,
} from '../eventStore.ts';
import { PollingSubscription } from './pollingSubscription.ts';

/** "DS01" in ASCII: marks an SQLite file as a DS01 event store (PRAGMA application_id). */
const APPLICATION_ID = 0x44533031;
const SCHEMA_VERSION = '1';
const SQLITE_HEADER = 'SQLite format 3\0';
const PAGE_SIZE = 1000;

export interface SqliteEventStoreOptions {
  /** File of the store; created (with its folder) on first use. */
  path: string;
  codec: EventCodec;
  /** How long a write waits for another process's write to finish before giving up. */
  busyTimeoutMs?: number;
  /** How often a subscription looks for events written by other processes. */
  pollIntervalMs?: number;
  /** Open without creating or writing (e.g. for `ds01 store stats`). */
  readOnly?: boolean;
}

interface EventRow {
  position: number;
  stream_id: string;
  revision: number;
  event_id: string;
  type: string;
  version: number;
  data: string;
  metadata: string;
}

const COLUMNS = 'position, stream_id, revision, event_id, type, version, data, metadata';

/**
 * The embedded event store: one SQLite file in WAL mode, synchronous=FULL so that an acknowledged
 * append survives a crash or power loss. Several processes may open the same file: SQLite's write
 * lock serialises appends (BEGIN IMMEDIATE), which is what makes expected-revision checks atomic
 * across processes and log positions strictly increasing in commit order.
 */
export class SqliteEventStore implements EventStore {
  readonly info: StoreInfo;
  readonly #db: DatabaseSync;
  readonly #codec: EventCodec;
  readonly #path: string;
  readonly #pollIntervalMs: number;
  readonly #appended = new EventEmitter();
  readonly #subscriptions = new Set<PollingSubscription>();
  readonly #stmt: {
    streamRevision: StatementSync;
    eventById: StatementSync;
    insert: StatementSync;
    head: StatementSync;
    count: StatementSync;
  };

  constructor(options: SqliteEventStoreOptions) {
    this.#path = options.path;
    this.#codec = options.codec;
    this.#pollIntervalMs = options.pollIntervalMs ?? 100;
    this.info = { kind: 'sqlite', location: options.path };
    this.#appended.setMaxListeners(0);
    const isNew = prepareFile(options.path, options.readOnly ?? false);
    this.#db = openDatabase(options.path, options.readOnly ?? false, options.busyTimeoutMs ?? 5000);
    try {
      if (isNew) this.#createSchema();
      else this.#checkSchema();
      this.#stmt = {
        streamRevision: this.#db.prepare('SELECT max(revision) AS revision FROM events WHERE stream_id = ?'),
        eventById: this.#db.prepare(`SELECT ${COLUMNS} FROM events WHERE event_id = ?`),
        insert: this.#db.prepare(
          'INSERT INTO events (stream_id, revision, event_id, type, version, data, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)',
        ),
        head: this.#db.prepare('SELECT coalesce(max(position), 0) AS head FROM events'),
        count: this.#db.prepare('SELECT count(*) AS n FROM events'),
      };
    } catch (error) {
      this.#db.close();
      throw asStoreError(options.path, error);
    }
  }

  #createSchema(): void {
    this.#db.exec(`
      PRAGMA application_id = ${APPLICATION_ID};
      BEGIN;
      CREATE TABLE IF NOT EXISTS ds01_store (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      INSERT OR IGNORE INTO ds01_store (key, value) VALUES ('format', 'ds01-event-store'), ('schema_version', '${SCHEMA_VERSION}');
      CREATE TABLE IF NOT EXISTS events (
        position  INTEGER PRIMARY KEY,
        stream_id TEXT    NOT NULL,
        revision  INTEGER NOT NULL,
        event_id  TEXT    NOT NULL,
        type      TEXT    NOT NULL,
        version   INTEGER NOT NULL,
        data      TEXT    NOT NULL,
        metadata  TEXT    NOT NULL
      );
      CREATE UNIQUE INDEX IF NOT EXISTS events_stream_revision ON events (stream_id, revision);
      CREATE UNIQUE INDEX IF NOT EXISTS events_event_id ON events (event_id);
      CREATE INDEX IF NOT EXISTS events_type_position ON events (type, position);
      COMMIT;
    `);
  }

  #checkSchema(): void {
    const appId = (this.#db.prepare('PRAGMA application_id').get() as { application_id: number })
      .application_id;
    if (appId !== APPLICATION_ID) {
      const tables = this.#db
        .prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'")
        .get() as {
        n: number;
      };
      if (tables.n > 0) {
        throw new StoreUnavailableError(
          this.#path,
          'is an SQLite database but not a DS01 event store; nothing was changed. Point --data-dir at another folder',
        );
      }
      this.#createSchema();
      return;
    }
    const version = this.#db.prepare("SELECT value FROM ds01_store WHERE key = 'schema_version'").get() as
      | { value: string }
      | undefined;
    if (version?.value !== SCHEMA_VERSION) {
      throw new StoreUnavailableError(
        this.#path,
        `has store schema version ${version?.value ?? '(none)'}, this DS01 reads version ${SCHEMA_VERSION}`,
      );
    }
  }

  async append(
    streamId: string,
    events: readonly NewEvent[],
    options: { expectedRevision?: ExpectedRevision } = {},
  ): Promise<AppendResult> {
    return this.appendSync(streamId, events, options.expectedRevision ?? 'any');
  }

  /** The append itself; synchronous because node:sqlite is. Exposed for benchmarks and tools. */
  appendSync(streamId: string, events: readonly NewEvent[], expected: ExpectedRevision): AppendResult {
    if (!streamId) throw new EventSchemaError('(append)', 'streamId', 'must not be empty');
    if (events.length === 0)
      throw new EventSchemaError('(append)', 'events', 'an append needs at least one event');
    const recordedAt = new Date().toISOString();
    const rows = events.map((event) => this.#encode(event, recordedAt));
    try {
      this.#db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      throw asStoreError(this.#path, error);
    }
    let committed = false;
    try {
      const current = this.#revisionOf(streamId);
      const fresh = rows.filter((row) => !this.#alreadyAppended(streamId, row));
      if (fresh.length === 0) {
        this.#db.exec('COMMIT');
        committed = true;
        const last = this.#stmt.eventById.get(rows.at(-1)!.eventId) as unknown as EventRow;
        return { nextExpectedRevision: current as number, position: last.position };
      }
      checkExpected(streamId, expected, current);
      let revision = current === 'no_stream' ? -1 : current;
      let position = 0;
      for (const row of fresh) {
        revision += 1;
        const result = this.#stmt.insert.run(
          streamId,
          revision,
          row.eventId,
          row.type,
          row.version,
          row.data,
          row.metadata,
        );
        position = Number(result.lastInsertRowid);
      }
      this.#db.exec('COMMIT');
      committed = true;
      this.#appended.emit('append');
      return { nextExpectedRevision: revision, position };
    } catch (error) {
      if (!committed) rollbackQuietly(this.#db);
      throw asStoreError(this.#path, error);
    }
  }

  #encode(event: NewEvent, recordedAt: string) {
    const parsed = EventMetadataInputSchema.safeParse(event.metadata);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new EventSchemaError(event.type, ['metadata', ...issue.path].join('.'), issue.message);
    }
    const { version, data } = this.#codec.encode(event.type, event.data);
    return {
      eventId: parsed.data.eventId,
      type: event.type,
      version,
      data: JSON.stringify(data),
      metadata: JSON.stringify({ ...parsed.data, recordedAt }),
    };
  }

  #alreadyAppended(streamId: string, row: { eventId: string; type: string; data: string }): boolean {
    const existing = this.#stmt.eventById.get(row.eventId) as EventRow | undefined;
    if (!existing) return false;
    if (existing.stream_id !== streamId) {
      throw new EventIdConflictError(row.eventId, streamId, `in stream '${existing.stream_id}'`);
    }
    if (existing.type !== row.type || existing.data !== row.data) {
      throw new EventIdConflictError(
        row.eventId,
        streamId,
        `with a different payload (${existing.type} at revision ${existing.revision})`,
      );
    }
    return true;
  }

  #revisionOf(streamId: string): number | 'no_stream' {
    const row = this.#stmt.streamRevision.get(streamId) as { revision: number | null };
    return row.revision ?? 'no_stream';
  }

  async streamRevision(streamId: string): Promise<number | 'no_stream'> {
    return this.#guard(() => this.#revisionOf(streamId));
  }

  async *readStream(streamId: string, options: ReadStreamOptions = {}): AsyncIterable<RecordedEvent> {
    const forwards = (options.direction ?? 'forwards') === 'forwards';
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    let next = options.fromRevision ?? (forwards ? 0 : Number.MAX_SAFE_INTEGER);
    const stmt = this.#db.prepare(
      forwards
        ? `SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?`
        : `SELECT ${COLUMNS} FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`,
    );
    while (remaining > 0) {
      const limit = Math.min(PAGE_SIZE, remaining);
      const rows = this.#guard(() => stmt.all(streamId, next, limit) as unknown as EventRow[]);
      for (const row of rows) yield this.#decode(row);
      remaining -= rows.length;
      if (rows.length < limit) return;
      next = rows.at(-1)!.revision + (forwards ? 1 : -1);
    }
  }

  async *readAll(options: ReadAllOptions = {}): AsyncIterable<RecordedEvent> {
    let after = options.after ?? 0;
    let remaining = options.maxCount ?? Number.POSITIVE_INFINITY;
    while (remaining > 0) {
      const page = this.readPage(after, options.filter, Math.min(PAGE_SIZE, remaining));
      for (const event of page.events) yield event;
      remaining -= page.events.length;
      if (page.scannedTo === after || page.events.length === 0) return;
      after = page.scannedTo;
    }
  }

  /**
   * One page of the log after a position. scannedTo is how far the log was looked at: past the
   * last returned event when a filter skipped events, so that callers do not scan them again.
   */
  readPage(
    after: number,
    filter: EventFilter | undefined,
    limit: number,
  ): { events: RecordedEvent[]; scannedTo: number } {
    return this.#guard(() => {
      const head = (this.#stmt.head.get() as { head: number }).head;
      const { sql, params } = filterSql(filter);
      const rows = this.#db
        .prepare(
          `SELECT ${COLUMNS} FROM events WHERE position > ? AND position <= ?${sql} ORDER BY position ASC LIMIT ?`,
        )
        .all(after, head, ...params, limit) as unknown as EventRow[];
      const scannedTo = rows.length < limit ? head : rows.at(-1)!.position;
      return { events: rows.map((row) => this.#decode(row)), scannedTo };
    });
  }

  #decode(row: EventRow): RecordedEvent {
    const decoded = this.#codec.decode(row.type, row.version, JSON.parse(row.data));
    return {
      type: row.type,
      version: decoded.version,
      data: decoded.data,
      metadata: JSON.parse(row.metadata),
      streamId: row.stream_id,
      revision: row.revision,
      position: row.position,
    };
  }

  async headPosition(): Promise<number> {
    return this.#guard(() => (this.#stmt.head.get() as { head: number }).head);
  }

  async countEvents(): Promise<number> {
    return this.#guard(() => (this.#stmt.count.get() as { n: number }).n);
  }

  subscribeToAll(options: SubscribeOptions = {}): Subscription {
    const subscription = new PollingSubscription({
      ...options,
      readPage: (after, filter, limit) => this.readPage(after, filter, limit),
      changes: this.#appended,
      pollIntervalMs: this.#pollIntervalMs,
      onClose: () => this.#subscriptions.delete(subscription),
    });
    this.#subscriptions.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#subscriptions].map((s) => s.close()));
    if (this.#db.isOpen) this.#db.close();
  }

  #guard<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw asStoreError(this.#path, error);
    }
  }
}

function checkExpected(streamId: string, expected: ExpectedRevision, current: number | 'no_stream'): void {
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && current === 'no_stream') ||
    (expected === 'stream_exists' && current !== 'no_stream') ||
    expected === current;
  if (!ok) throw new WrongExpectedRevisionError(streamId, expected, current);
}

function filterSql(filter: EventFilter | undefined): { sql: string; params: SQLInputValue[] } {
  const clauses: string[] = [];
  const params: SQLInputValue[] = [];
  if (filter?.eventTypes?.length) {
    clauses.push(`type IN (${filter.eventTypes.map(() => '?').join(', ')})`);
    params.push(...filter.eventTypes);
  }
  if (filter?.streamPrefixes?.length) {
    // A prefix match that can use the (stream_id, revision) index: [prefix, prefix + U+10FFFF).
    clauses.push(`(${filter.streamPrefixes.map(() => '(stream_id >= ? AND stream_id < ?)').join(' OR ')})`);
    for (const prefix of filter.streamPrefixes) params.push(prefix, `${prefix}\u{10FFFF}`);
  }
  return { sql: clauses.map((c) => ` AND ${c}`).join(''), params };
}

/** Makes the folder and an empty file with tight permissions; refuses a file that is not SQLite. */
function prepareFile(path: string, readOnly: boolean): boolean {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    if (readOnly)
      throw new StoreUnavailableError(path, 'does not exist yet: start ds01d once, or check --data-dir');
    mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
    closeSync(openSync(path, 'wx', 0o640));
    return true;
  }
  if (size === 0) return !readOnly;
  const header = Buffer.alloc(16);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString('latin1') !== SQLITE_HEADER) {
    throw new StoreUnavailableError(
      path,
      'is not an SQLite database (foreign or corrupted file); nothing was changed. Move it aside or point --data-dir elsewhere',
    );
  }
  return false;
}

function openDatabase(path: string, readOnly: boolean, busyTimeoutMs: number): DatabaseSync {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly, timeout: busyTimeoutMs });
  } catch (error) {
    throw asStoreError(path, error);
  }
  try {
    if (!readOnly) {
      db.exec('PRAGMA journal_mode = WAL');
    }
    db.exec('PRAGMA synchronous = FULL');
    return db;
  } catch (error) {
    db.close();
    throw asStoreError(path, error);
  }
}

function rollbackQuietly(db: DatabaseSync): void {
  try {
    if (db.isTransaction) db.exec('ROLLBACK');
  } catch {
    // The transaction is already gone (SQLite rolls back on some errors itself).
  }
}

/** Translates SQLite's errors into ones that name the file and say what to do. */
function asStoreError(path: string, error: unknown): Error {
  if (!(error instanceof Error) || error.name.endsWith('Error') === false) return error as Error;
  if (!('code' in error) || (error as { code?: string }).code !== 'ERR_SQLITE_ERROR') return error;
  const errcode = (error as { errcode?: number }).errcode ?? 0;
  const primary = errcode & 0xff;
  if (primary === 5 || primary === 6) {
    return new StoreUnavailableError(
      path,
      'is locked by another process that is writing to it and did not finish in time; retry, or find the process with `fuser`',
      { cause: error },
    );
  }
  if (primary === 11 || primary === 26) {
    return new StoreUnavailableError(
      path,
      `is corrupted or not a database (${error.message}); nothing was changed. Restore it from a backup`,
      { cause: error },
    );
  }
  if (primary === 8) {
    return new StoreUnavailableError(
      path,
      `is read-only for this process (${error.message}): check its owner and mode`,
      {
        cause: error,
      },
    );
  }
  return new StoreUnavailableError(path, error.message, { cause: error });
}
