import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { asStoreError, StoreUnavailableError } from '@ds01/event-store';
import { ReadModelUnavailableError } from './errors.ts';

/** "DS0P" in ASCII: marks an SQLite file as DS01's projections database. */
const APPLICATION_ID = 0x44533050;

/** A projection's progress through the log, as stored next to its tables. */
export interface Checkpoint {
  projection: string;
  /** Last log position the projection has taken into account (0: nothing yet). */
  position: number;
  /** The projection's version that built the tables. */
  version: number;
  updatedAt: string;
  /** Why the projection stopped, when it did (cleared when it runs again). */
  error: string | null;
}

interface CheckpointRow {
  projection: string;
  position: number;
  version: number;
  updated_at: string;
  error: string | null;
}

/**
 * Opens (creating when needed, mode 0640 in a 0750 folder) the projections database: the read
 * models live apart from the log so they work with either store adapter, and can be deleted and
 * rebuilt at any time. WAL lets readers (the CLI) query while ds01d writes.
 */
export function openProjectionsDb(path: string, options: { readOnly?: boolean } = {}): DatabaseSync {
  const readOnly = options.readOnly ?? false;
  if (readOnly) {
    try {
      statSync(path);
    } catch {
      throw new ReadModelUnavailableError(
        path,
        'does not exist yet: start ds01d, or build the read models with `ds01 projections rebuild --all`',
      );
    }
  } else {
    createFile(path);
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly, timeout: 5000 });
  } catch (error) {
    throw new ReadModelUnavailableError(path, problemOf(path, error), { cause: error });
  }
  try {
    if (!readOnly) {
      db.exec('PRAGMA journal_mode = WAL');
      // A lost batch after power loss is re-applied from the log: NORMAL is enough for a read model.
      db.exec('PRAGMA synchronous = NORMAL');
      checkOwnership(db, path, false);
      db.exec(`
        CREATE TABLE IF NOT EXISTS checkpoints (
          projection TEXT PRIMARY KEY,
          position   INTEGER NOT NULL,
          version    INTEGER NOT NULL,
          updated_at TEXT    NOT NULL,
          error      TEXT
        )`);
    } else {
      checkOwnership(db, path, true);
    }
    return db;
  } catch (error) {
    db.close();
    if (error instanceof ReadModelUnavailableError) throw error;
    throw new ReadModelUnavailableError(path, problemOf(path, error), { cause: error });
  }
}

/** SQLite's complaint said as the event store says it of its own file (full disk, read-only disk...). */
function problemOf(path: string, error: unknown): string {
  const translated = asStoreError(path, error);
  return translated instanceof StoreUnavailableError ? translated.problem : (error as Error).message;
}

function createFile(path: string): void {
  try {
    statSync(path);
  } catch {
    mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
    closeSync(openSync(path, 'a', 0o640));
    chmodSync(path, 0o640);
  }
}

/** Refuses to write DS01's tables into somebody else's database. */
function checkOwnership(db: DatabaseSync, path: string, readOnly: boolean): void {
  const appId = (db.prepare('PRAGMA application_id').get() as { application_id: number }).application_id;
  if (appId === APPLICATION_ID) return;
  const tables = (
    db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as {
      n: number;
    }
  ).n;
  if (tables > 0) {
    throw new ReadModelUnavailableError(
      path,
      'is an SQLite database but not DS01 projections; nothing was changed. Move it aside or check --data-dir',
    );
  }
  if (readOnly) return;
  db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
}

/** Every projection's checkpoint, by name. */
export function readCheckpoints(db: DatabaseSync): Map<string, Checkpoint> {
  const rows = db
    .prepare('SELECT projection, position, version, updated_at, error FROM checkpoints')
    .all() as unknown as CheckpointRow[];
  return new Map(rows.map((row) => [row.projection, toCheckpoint(row)]));
}

export function readCheckpoint(db: DatabaseSync, projection: string): Checkpoint | undefined {
  const row = db
    .prepare('SELECT projection, position, version, updated_at, error FROM checkpoints WHERE projection = ?')
    .get(projection) as unknown as CheckpointRow | undefined;
  return row && toCheckpoint(row);
}

/** Writes a checkpoint; call it inside the transaction that applied the events it covers. */
export function writeCheckpoint(db: DatabaseSync, checkpoint: Omit<Checkpoint, 'updatedAt'>): void {
  db.prepare(
    `INSERT INTO checkpoints (projection, position, version, updated_at, error) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (projection) DO UPDATE SET position = excluded.position, version = excluded.version,
       updated_at = excluded.updated_at, error = excluded.error`,
  ).run(
    checkpoint.projection,
    checkpoint.position,
    checkpoint.version,
    new Date().toISOString(),
    checkpoint.error,
  );
}

function toCheckpoint(row: CheckpointRow): Checkpoint {
  return {
    projection: row.projection,
    position: row.position,
    version: row.version,
    updatedAt: row.updated_at,
    error: row.error,
  };
}
