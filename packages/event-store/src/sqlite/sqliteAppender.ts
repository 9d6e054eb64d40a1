import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { EncodedEvent } from '../encodeEvent.ts';
import type { AppendResult, ExpectedRevision } from '../envelope.ts';
import { EventIdConflictError, WrongExpectedRevisionError } from '../errors.ts';
import { satisfiesExpected } from '../expectedRevision.ts';
import { asStoreError } from './sqliteErrors.ts';
import { StatementCache } from './statementCache.ts';

/**
 * An event as the appender writes it: the encoded event with its metadata already JSON text (strings
 * cross to the writer thread far cheaper than objects do).
 */
export interface AppendRow extends Omit<EncodedEvent, 'metadata'> {
  metadata: string;
}

export function appendRow(event: EncodedEvent): AppendRow {
  return { ...event, metadata: JSON.stringify(event.metadata) };
}

/** One append as the store asks for it: validated and encoded, with what it expects of the stream. */
export interface EncodedAppend {
  streamId: string;
  encoded: AppendRow[];
  expected: ExpectedRevision;
}

/**
 * What became of one request of a group (a single append, or a multi-stream batch): its results, one per
 * stream, and how many events were new; or its error, when nothing of it was written.
 */
export type AppendOutcome = { ok: AppendResult[]; inserted: number } | { error: unknown };

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

/** `SELECT max(revision)` of a stream: its last event's revision, or 'no_stream'. */
export function revisionOf(statement: StatementSync, streamId: string): number | 'no_stream' {
  const row = statement.get(streamId) as { revision: number | null };
  return row.revision ?? 'no_stream';
}

export const REVISION_SQL = 'SELECT max(revision) AS revision FROM events WHERE stream_id = ?';

/**
 * The write side of the SQLite store: commits groups of requests, each a single append or a multi-stream
 * batch. Each request of a group runs inside a savepoint of its own, so it succeeds or fails alone (a
 * batch whole) and in the order given, while the group shares one transaction and one fsync. Works on the
 * connection it is given (the store's writer thread owns it).
 */
export class SqliteAppender {
  readonly #db: DatabaseSync;
  readonly #path: string;
  readonly #statements: StatementCache;

  constructor(db: DatabaseSync, path: string) {
    this.#db = db;
    this.#path = path;
    this.#statements = new StatementCache(db);
  }

  /**
   * Commits the group; one outcome per append, in order. Throws (a StoreUnavailableError) when the
   * transaction itself fails (busy, disk full, I/O): then nothing of the group is in the log.
   */
  commit(group: readonly (readonly EncodedAppend[])[]): AppendOutcome[] {
    const metadataSuffix = `,"recordedAt":"${new Date().toISOString()}"}`;
    const outcomes: AppendOutcome[] = [];
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      for (const request of group) {
        this.#db.exec('SAVEPOINT one_append');
        try {
          const results: AppendResult[] = [];
          let inserted = 0;
          for (const { streamId, encoded, expected } of request) {
            const one = this.#appendInTransaction(streamId, encoded, expected, metadataSuffix);
            results.push(one.appended);
            inserted += one.inserted;
          }
          this.#db.exec('RELEASE one_append');
          outcomes.push({ ok: results, inserted });
        } catch (error) {
          this.#db.exec('ROLLBACK TO one_append');
          this.#db.exec('RELEASE one_append');
          outcomes.push({ error: asStoreError(this.#path, error) });
        }
      }
      this.#db.exec('COMMIT');
      return outcomes;
    } catch (error) {
      rollbackQuietly(this.#db);
      throw asStoreError(this.#path, error);
    }
  }

  /**
   * One append inside the group's transaction. Fast path: one INSERT per event, no lookups. An event id
   * already in the log makes its INSERT do nothing, and only then is the existing row read to tell a
   * harmless retry (same stream, type and data: skipped) from a conflict.
   */
  #appendInTransaction(
    streamId: string,
    encoded: AppendRow[],
    expected: ExpectedRevision,
    metadataSuffix: string,
  ): { appended: AppendResult; inserted: number } {
    const current = revisionOf(this.#statement(REVISION_SQL), streamId);
    if (!satisfiesExpected(expected, current)) {
      // A retry of an append that already happened succeeds whatever it expected.
      const existing = encoded.map((event) => this.#existing(streamId, event));
      if (current !== 'no_stream' && existing.every((row) => row !== undefined)) {
        return {
          appended: { nextExpectedRevision: current, position: existing.at(-1)!.position },
          inserted: 0,
        };
      }
      throw new WrongExpectedRevisionError(streamId, expected, current);
    }
    const insert = this.#statement(
      'INSERT INTO events (stream_id, revision, event_id, type, version, data, metadata) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING',
    );
    let revision = current === 'no_stream' ? -1 : current;
    let position = 0;
    let inserted = 0;
    for (const event of encoded) {
      // The metadata's JSON ends with '}': splice recordedAt in rather than parse and copy it.
      const metadata = event.metadata.slice(0, -1) + metadataSuffix;
      const result = insert.run(
        streamId,
        revision + 1,
        event.eventId,
        event.type,
        event.version,
        event.data,
        metadata,
      );
      if (result.changes === 0) {
        position = this.#existing(streamId, event)!.position;
        continue;
      }
      revision += 1;
      inserted += 1;
      position = Number(result.lastInsertRowid);
    }
    const nextExpectedRevision = revision;
    return { appended: { nextExpectedRevision, position }, inserted };
  }

  /** The stored row of an event id, if this very event is already in the stream; throws on a conflict. */
  #existing(streamId: string, event: AppendRow): EventRow | undefined {
    const row = this.#statement(`SELECT ${COLUMNS} FROM events WHERE event_id = ?`).get(event.eventId) as
      | EventRow
      | undefined;
    if (!row) return undefined;
    if (row.stream_id !== streamId) {
      throw new EventIdConflictError(
        event.eventId,
        streamId,
        `in stream '${row.stream_id}' (revision ${row.revision})`,
      );
    }
    if (row.type !== event.type || row.data !== event.data) {
      throw new EventIdConflictError(
        event.eventId,
        streamId,
        `with a different payload (${row.type} at revision ${row.revision}): an event id names one fact, give a new fact a new id`,
      );
    }
    return row;
  }

  #statement(sql: string): StatementSync {
    return this.#statements.get(sql);
  }
}

const COLUMNS = 'position, stream_id, revision, event_id, type, version, data, metadata';

export function rollbackQuietly(db: DatabaseSync): void {
  try {
    if (db.isTransaction) db.exec('ROLLBACK');
  } catch {
    // SQLite already rolled back (it does on some errors itself).
  }
}
