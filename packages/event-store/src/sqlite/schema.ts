import type { DatabaseSync } from 'node:sqlite';
import { StoreUnavailableError } from '../errors.ts';

/** "DS01" in ASCII: marks an SQLite file as a DS01 event store (PRAGMA application_id). */
const APPLICATION_ID = 0x44533031;
const SCHEMA_VERSION = '1';

/**
 * One table, the log. position is the rowid: assigned under SQLite's single write lock, so it grows
 * in commit order and a reader never sees a later position before an earlier one.
 */
export function createSchema(db: DatabaseSync): void {
  db.exec(`
    BEGIN IMMEDIATE;
    PRAGMA application_id = ${APPLICATION_ID};
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
    COMMIT;
  `);
}

/**
 * Whether an existing SQLite file is a DS01 store this code can read: 'empty' when it has no tables
 * yet (another process created the file and has not initialised it). Only reads: a foreign
 * database is refused without a byte of it changed.
 */
export function checkSchema(db: DatabaseSync, path: string): 'ok' | 'empty' {
  const { application_id: appId } = db.prepare('PRAGMA application_id').get() as { application_id: number };
  if (appId !== APPLICATION_ID) {
    const { n } = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as {
      n: number;
    };
    if (n === 0) return 'empty';
    throw new StoreUnavailableError(
      path,
      'is an SQLite database of another application, not a DS01 event store; nothing was changed. Point --data-dir at another folder',
    );
  }
  const row = db.prepare("SELECT value FROM ds01_store WHERE key = 'schema_version'").get() as
    | { value: string }
    | undefined;
  if (row?.value !== SCHEMA_VERSION) {
    throw new StoreUnavailableError(
      path,
      `has store schema version ${row?.value ?? '(none)'}, this DS01 reads version ${SCHEMA_VERSION}: upgrade DS01`,
    );
  }
  return 'ok';
}
