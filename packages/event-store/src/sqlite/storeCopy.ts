import { randomUUID } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { StoreUnavailableError } from '../errors.ts';
import { checkSchema } from './schema.ts';
import { asStoreError } from './sqliteErrors.ts';
import { prepareStoreFile } from './storeFile.ts';

/** A backup holds who used which GPU, like the log itself: readable by the ds01 group only. */
const COPY_MODE = 0o640;

/** What a store file holds, as checked by opening it. */
export interface StoreFileSummary {
  path: string;
  events: number;
  /** Position of the last event (0: empty log). */
  head: number;
  bytes: number;
}

/**
 * Copies a store into `destination`, consistently while other processes append (VACUUM INTO reads
 * one snapshot inside a read transaction; in WAL mode writers go on meanwhile, and the WAL's newest
 * commits are in the copy). The copy is a self-contained file (no -wal beside it), written under a
 * temporary name in the destination's folder, checked (integrity, DS01 schema, event count and head),
 * made 0640, flushed to disk and only then renamed into place: `destination` is either the old file
 * or a whole, checked copy, never half of one.
 */
export function copyStoreFile(source: string, destination: string): StoreFileSummary {
  const folder = dirname(destination);
  if (!statSync(folder, { throwIfNoEntry: false })?.isDirectory()) {
    throw new StoreUnavailableError(
      destination,
      `cannot be written: the folder ${folder} does not exist; create it first`,
    );
  }
  const temporary = join(folder, `.${basename(destination)}.partial-${randomUUID().slice(0, 8)}`);
  const db = openStoreFileReadOnly(source);
  try {
    db.prepare('VACUUM INTO ?').run(temporary);
    db.close();
    const summary = inspectStoreFile(temporary);
    chmodSync(temporary, COPY_MODE);
    syncPath(temporary);
    renameSync(temporary, destination);
    syncPath(folder);
    return { ...summary, path: destination };
  } catch (error) {
    rmSync(temporary, { force: true });
    throw asStoreError(destination, error);
  } finally {
    if (db.isOpen) db.close();
  }
}

/**
 * Opens a store file read-only and checks that it is a whole DS01 store: SQLite's integrity check,
 * the DS01 schema; returns its event count and head. Throws StoreUnavailableError saying what is wrong.
 */
export function inspectStoreFile(path: string): StoreFileSummary {
  return withStoreDatabase(path, (db) => {
    const problems = integrityProblems(db);
    if (problems.length > 0) {
      throw new StoreUnavailableError(
        path,
        `fails SQLite's integrity check (${problems.slice(0, 3).join('; ')}${problems.length > 3 ? '; ...' : ''})`,
      );
    }
    const { events, head } = db
      .prepare('SELECT count(*) AS events, coalesce(max(position), 0) AS head FROM events')
      .get() as { events: number; head: number };
    return { path, events, head, bytes: statSync(path).size };
  });
}

/** What `PRAGMA integrity_check` reports, without its 'ok'. */
export function integrityProblems(db: DatabaseSync): string[] {
  const rows = db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[];
  return rows.map((row) => row.integrity_check).filter((line) => line !== 'ok');
}

/** Runs `work` on a read-only connection to a DS01 store file (see openStoreFileReadOnly), then closes it. */
export function withStoreDatabase<T>(path: string, work: (db: DatabaseSync) => T): T {
  const db = openStoreFileReadOnly(path);
  try {
    return work(db);
  } catch (error) {
    throw asStoreError(path, error);
  } finally {
    db.close();
  }
}

/**
 * A read-only connection to a DS01 store file; refuses (StoreUnavailableError, nothing changed) a
 * file that is missing, not SQLite, cut short, another application's, or never initialised.
 */
export function openStoreFileReadOnly(path: string): DatabaseSync {
  prepareStoreFile(path, true);
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    if (checkSchema(db, path) === 'empty') {
      throw new StoreUnavailableError(path, 'is an empty SQLite file, not an initialised DS01 store');
    }
    return db;
  } catch (error) {
    db?.close();
    throw asStoreError(path, error);
  }
}

/** fsync a file or folder: a rename is durable only once the folder holding it is flushed. */
export function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
