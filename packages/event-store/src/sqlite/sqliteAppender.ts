import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { EncodedEvent } from '../encodeEvent.ts';
import type { AppendResult, ExpectedRevision } from '../envelope.ts';
import { EventIdConflictError, WrongExpectedRevisionError } from '../errors.ts';
import { satisfiesExpected } from '../expectedRevision.ts';
import { asStoreError } from './sqliteErrors.ts';
import { StatementCache } from './statementCache.ts';

/** One append as the writer thread writes it: column by column. */
export interface EncodedAppend {
  streamId: string;
  expected: ExpectedRevision;
  eventIds: string[];
  types: string[];
  versions: number[];
  /** JSON text of each event's data: what is stored, and what idempotent re-appends are compared by. */
  data: string[];
  /** JSON text of each event's metadata (recordedAt is added when it is written). */
  metadata: string[];
}

/**
 * One append as it crosses to the writer thread: the event ids, data and metadata of every event in
 * one string, joined by NUL, and the types and versions as runs (consecutive events nearly always
 * share them). Structured clone copies one flat string far faster than arrays of thousands of strings
 * (measured ~0.4 against ~1.5 µs an event on the sending thread), and the thread splits it apart.
 * NUL cannot occur inside: event ids are UUIDs, and JSON.stringify escapes every control character.
 */
export interface PackedAppend {
  streamId: string;
  expected: ExpectedRevision;
  count: number;
  /** eventId NUL data NUL metadata, event after event, all joined by NUL. */
  packed: string;
  /** Runs of (type, version): runTypes[k] and runVersions[k] for the next runLengths[k] events. */
  runTypes: string[];
  runVersions: number[];
  runLengths: number[];
}

export function packAppend(
  streamId: string,
  expected: ExpectedRevision,
  events: readonly EncodedEvent[],
): PackedAppend {
  const n = events.length;
  const parts: string[] = new Array(n * 3);
  const runTypes: string[] = [];
  const runVersions: number[] = [];
  const runLengths: number[] = [];
  for (let i = 0; i < n; i++) {
    const event = events[i]!;
    parts[3 * i] = event.eventId;
    parts[3 * i + 1] = event.data;
    parts[3 * i + 2] = JSON.stringify(event.metadata);
    const last = runTypes.length - 1;
    if (last >= 0 && runTypes[last] === event.type && runVersions[last] === event.version) {
      runLengths[last]! += 1;
    } else {
      runTypes.push(event.type);
      runVersions.push(event.version);
      runLengths.push(1);
    }
  }
  return { streamId, expected, count: n, packed: parts.join('\0'), runTypes, runVersions, runLengths };
}

/** The writer thread's side of packAppend. */
export function unpackAppend(append: PackedAppend): EncodedAppend {
  const { count } = append;
  const fields = append.packed.split('\0');
  if (fields.length !== count * 3) {
    throw new Error(`a packed append of ${count} events came with ${fields.length} fields, not ${count * 3}`);
  }
  const unpacked: EncodedAppend = {
    streamId: append.streamId,
    expected: append.expected,
    eventIds: new Array(count),
    types: new Array(count),
    versions: new Array(count),
    data: new Array(count),
    metadata: new Array(count),
  };
  let i = 0;
  for (let run = 0; run < append.runLengths.length; run++) {
    for (let k = 0; k < append.runLengths[run]!; k++, i++) {
      unpacked.types[i] = append.runTypes[run]!;
      unpacked.versions[i] = append.runVersions[run]!;
    }
  }
  for (let e = 0; e < count; e++) {
    unpacked.eventIds[e] = fields[3 * e]!;
    unpacked.data[e] = fields[3 * e + 1]!;
    unpacked.metadata[e] = fields[3 * e + 2]!;
  }
  return unpacked;
}

/**
 * What became of one request of a group (a single append, or a multi-stream batch): its results, one per
 * stream, and how many events were new; or its error, when nothing of it was written.
 */
export type AppendOutcome = { ok: AppendResult[]; inserted: number } | { error: unknown };

/** A streamed append's open transaction (SqliteAppender.open): parts added in order, then committed. */
export interface OpenAppend {
  /** Writes one part; on a throw the transaction is already rolled back. */
  add(part: EncodedAppend): void;
  /** Decides the expected revision, commits; on a throw nothing of the append is in the log. */
  commit(): { ok: AppendResult[]; inserted: number };
  rollback(): void;
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
    // A group of one (appends awaited one after another) needs no savepoint: the transaction is the
    // request, and a refusal rolls it all back.
    const alone = group.length === 1;
    const outcomes: AppendOutcome[] = [];
    try {
      this.#run('BEGIN IMMEDIATE');
      for (const request of group) {
        if (!alone) this.#run('SAVEPOINT one_append');
        try {
          const results: AppendResult[] = [];
          let inserted = 0;
          for (const append of request) {
            const one = this.#appendInTransaction(append, metadataSuffix);
            results.push(one.appended);
            inserted += one.inserted;
          }
          if (!alone) this.#run('RELEASE one_append');
          outcomes.push({ ok: results, inserted });
        } catch (error) {
          if (alone) {
            rollbackQuietly(this.#db);
            return [{ error: asStoreError(this.#path, error) }];
          }
          this.#run('ROLLBACK TO one_append');
          this.#run('RELEASE one_append');
          outcomes.push({ error: asStoreError(this.#path, error) });
        }
      }
      this.#run('COMMIT');
      return outcomes;
    } catch (error) {
      rollbackQuietly(this.#db);
      throw asStoreError(this.#path, error);
    }
  }

  /**
   * Opens a transaction of its own for one stream's append that arrives in parts (a large append,
   * streamed to the writer thread while the caller still validates its later events). Nothing is
   * visible to others, and nothing stays, unless commit() is called. Throws a StoreUnavailableError
   * when the transaction cannot begin (busy, I/O).
   */
  open(streamId: string, expected: ExpectedRevision): OpenAppend {
    const metadataSuffix = `,"recordedAt":"${new Date().toISOString()}"}`;
    try {
      this.#run('BEGIN IMMEDIATE');
      const cursor = this.#cursor(streamId, expected, metadataSuffix);
      return {
        add: (part) => {
          try {
            cursor.add(part);
          } catch (error) {
            rollbackQuietly(this.#db);
            throw asStoreError(this.#path, error);
          }
        },
        commit: () => {
          try {
            const { appended, inserted } = cursor.finish();
            this.#run('COMMIT');
            return { ok: [appended], inserted };
          } catch (error) {
            rollbackQuietly(this.#db);
            throw asStoreError(this.#path, error);
          }
        },
        rollback: () => rollbackQuietly(this.#db),
      };
    } catch (error) {
      rollbackQuietly(this.#db);
      throw asStoreError(this.#path, error);
    }
  }

  /** A transaction-control statement, prepared once (exec would parse its text every time). */
  #run(sql: string): void {
    this.#statement(sql).run();
  }

  /** One append inside the group's transaction, whole. */
  #appendInTransaction(
    append: EncodedAppend,
    metadataSuffix: string,
  ): { appended: AppendResult; inserted: number } {
    const cursor = this.#cursor(append.streamId, append.expected, metadataSuffix);
    cursor.add(append);
    return cursor.finish();
  }

  /**
   * One append inside an open transaction, fed its events in one part or several. Fast path: one
   * INSERT per event, no lookups. An event id already in the log makes its INSERT do nothing, and
   * only then is the existing row read to tell a harmless retry (same stream, type and data:
   * skipped) from a conflict. When the stream's revision does not satisfy `expected`, nothing is
   * inserted: the append succeeds at finish() only if every one of its events is already in the
   * stream (a retry of an append that already happened succeeds whatever it expected).
   */
  #cursor(
    streamId: string,
    expected: ExpectedRevision,
    metadataSuffix: string,
  ): { add(part: EncodedAppend): void; finish(): { appended: AppendResult; inserted: number } } {
    const current = revisionOf(this.#statement(REVISION_SQL), streamId);
    const satisfied = satisfiesExpected(expected, current);
    const insert = this.#statement(
      'INSERT INTO events (stream_id, revision, event_id, type, version, data, metadata) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING',
    );
    let revision = current === 'no_stream' ? -1 : current;
    let position = 0;
    let inserted = 0;
    let allExist = true;
    return {
      add: (part) => {
        const { eventIds, types, versions, data, metadata } = part;
        if (!satisfied) {
          for (let i = 0; i < eventIds.length; i++) {
            const row = this.#existing(part, i);
            if (row) position = row.position;
            else allExist = false;
          }
          return;
        }
        for (let i = 0; i < eventIds.length; i++) {
          // The metadata's JSON ends with '}': splice recordedAt in rather than parse and copy it.
          const result = insert.run(
            streamId,
            revision + 1,
            eventIds[i]!,
            types[i]!,
            versions[i]!,
            data[i]!,
            metadata[i]!.slice(0, -1) + metadataSuffix,
          );
          if (result.changes === 0) {
            position = this.#existing(part, i)!.position;
            continue;
          }
          revision += 1;
          inserted += 1;
          position = Number(result.lastInsertRowid);
        }
      },
      finish: () => {
        if (satisfied) return { appended: { nextExpectedRevision: revision, position }, inserted };
        if (current !== 'no_stream' && allExist) {
          return { appended: { nextExpectedRevision: current, position }, inserted: 0 };
        }
        throw new WrongExpectedRevisionError(streamId, expected, current);
      },
    };
  }

  /** The stored row of the append's i-th event, if this very event is already in the stream; throws on a conflict. */
  #existing(append: EncodedAppend, i: number): EventRow | undefined {
    const { streamId } = append;
    const eventId = append.eventIds[i]!;
    const row = this.#statement(`SELECT ${COLUMNS} FROM events WHERE event_id = ?`).get(eventId) as
      | EventRow
      | undefined;
    if (!row) return undefined;
    if (row.stream_id !== streamId) {
      throw new EventIdConflictError(
        eventId,
        streamId,
        `in stream '${row.stream_id}' (revision ${row.revision})`,
      );
    }
    if (row.type !== append.types[i] || row.data !== append.data[i]) {
      throw new EventIdConflictError(
        eventId,
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
