import { chmodSync, closeSync, mkdirSync, openSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { asStoreError, StoreUnavailableError, whyUnreachable } from '@ds01/event-store';
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
 * The layout of this database's own tables (checkpoints), as PRAGMA user_version. A file of another
 * layout is never read: ds01d moves it aside and rebuilds every read model from the log. Format 1
 * files written before the stamp existed have user_version 0 and are the same layout.
 */
export const PROJECTIONS_DB_FORMAT = 1;
const CHECKPOINT_COLUMNS = ['projection', 'position', 'version', 'updated_at', 'error'];

/** A projections database that could not be used as it was and was started afresh. */
export interface ProjectionsDbReplacement {
  /** What was wrong with it. */
  reason: string;
  /** Where the unusable file was moved (it is kept, never deleted). */
  keptAs: string;
}

export interface OpenProjectionsDbOptions {
  readOnly?: boolean;
  /**
   * Called when the file was not usable (another DS01 version's, another application's, not SQLite)
   * and was moved aside for a fresh one: every projection then rebuilds from the log. Say so.
   */
  onReplaced?: (replacement: ProjectionsDbReplacement) => void;
}

/**
 * Opens (creating when needed, mode 0640 in a 0750 folder) the projections database: the read
 * models live apart from the log so they work with either store adapter, and can be deleted and
 * rebuilt at any time. WAL lets readers (the CLI) query while ds01d writes. A file this DS01 cannot
 * read correctly is refused to readers and, for the writer, moved aside and replaced (onReplaced).
 */
export function openProjectionsDb(path: string, options: OpenProjectionsDbOptions = {}): DatabaseSync {
  const readOnly = options.readOnly ?? false;
  if (readOnly) {
    try {
      statSync(path);
    } catch {
      throw new ReadModelUnavailableError(
        path,
        whyUnreachable(path) ??
          'does not exist yet: start ds01d, or build the read models with `ds01 projections rebuild --all`',
      );
    }
    const db = openConnection(path, true);
    const problem = unusableReason(db, path);
    if (problem) {
      db.close();
      throw new ReadModelUnavailableError(
        path,
        `${problem}; nothing was read. ds01d moves it aside and rebuilds the read models from the log at its next start (or stop ds01d and run \`ds01 projections rebuild --all\`)`,
      );
    }
    return db;
  }
  createFile(path);
  let db = openConnection(path, false);
  const problem = unusableReason(db, path);
  if (problem) {
    db.close();
    const keptAs = moveAside(path);
    createFile(path);
    db = openConnection(path, false);
    options.onReplaced?.({ reason: problem, keptAs });
  }
  try {
    db.exec('PRAGMA journal_mode = WAL');
    // A lost batch after power loss is re-applied from the log: NORMAL is enough for a read model.
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
    db.exec(`PRAGMA user_version = ${PROJECTIONS_DB_FORMAT}`);
    db.exec(`
      CREATE TABLE IF NOT EXISTS checkpoints (
        projection TEXT PRIMARY KEY,
        position   INTEGER NOT NULL,
        version    INTEGER NOT NULL,
        updated_at TEXT    NOT NULL,
        error      TEXT
      )`);
    return db;
  } catch (error) {
    db.close();
    throw new ReadModelUnavailableError(path, problemOf(path, error), { cause: error });
  }
}

function openConnection(path: string, readOnly: boolean): DatabaseSync {
  try {
    return new DatabaseSync(path, { readOnly, timeout: 5000 });
  } catch (error) {
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

/**
 * Why this file cannot be read as this DS01's projections, or undefined: an empty file (new) and
 * DS01's own of the same format are fine.
 */
function unusableReason(db: DatabaseSync, path: string): string | undefined {
  let appId: number;
  let format: number;
  let tables: number;
  try {
    appId = (db.prepare('PRAGMA application_id').get() as { application_id: number }).application_id;
    format = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    tables = (
      db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }
    ).n;
  } catch (error) {
    // A disk that is full or read-only is no foreign file: say what to do, and move nothing aside.
    const translated = asStoreError(path, error);
    if (translated instanceof StoreUnavailableError && translated.reason !== 'corrupt') {
      throw new ReadModelUnavailableError(path, translated.problem, { cause: error });
    }
    return `is not an SQLite database (${(error as Error).message})`;
  }
  if (appId !== APPLICATION_ID) {
    return tables > 0 ? 'is an SQLite database of another application, not DS01 projections' : undefined;
  }
  const columns = (db.prepare('PRAGMA table_info(checkpoints)').all() as { name: string }[]).map(
    (c) => c.name,
  );
  const sameLayout = columns.length === 0 || columns.join() === CHECKPOINT_COLUMNS.join();
  if ((format !== PROJECTIONS_DB_FORMAT && format !== 0) || !sameLayout) {
    return `was written by another DS01 version (projections format ${format}${sameLayout ? '' : ', other checkpoint columns'}; this one uses format ${PROJECTIONS_DB_FORMAT})`;
  }
  return undefined;
}

/** Renames the file (and its -wal, -shm) to `<path>.replaced-<time>`; returns that name. */
function moveAside(path: string): string {
  const keptAs = `${path}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  for (const suffix of ['-wal', '-shm', '']) {
    try {
      renameSync(`${path}${suffix}`, `${keptAs}${suffix}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return keptAs;
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
