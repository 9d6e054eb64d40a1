import { chmodSync, closeSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { StoreUnavailableError } from '../errors.ts';
import { whyUnreachable } from './fileAccess.ts';
import { asStoreError } from './sqliteErrors.ts';

/** 32 MiB of page cache (SQLite's default is 2 MiB): keeps the indexes' upper pages in memory. */
const CACHE_KIB = 32 * 1024;

const SQLITE_MAGIC = 'SQLite format 3\0';
const HEADER_BYTES = 100;
/** The log holds who did what: readable by the ds01 group, writable by its owner only. */
const FILE_MODE = 0o640;
const DIRECTORY_MODE = 0o750;

/**
 * Makes sure the store's file is usable before SQLite opens it, without changing a byte of a file
 * that is not ours: creates the folder (0750) and an empty file (0640) when there is none, and
 * refuses a file that is not SQLite or that was cut short (a truncated copy, a full disk).
 * Returns whether the file is new (empty), so the caller knows to create the schema.
 */
export function prepareStoreFile(path: string, readOnly: boolean): 'new' | 'existing' {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    const why = whyUnreachable(path);
    if (why) throw new StoreUnavailableError(path, why);
    if (readOnly)
      throw new StoreUnavailableError(path, 'does not exist yet: start ds01d once, or check --data-dir');
    createEmptyFile(path);
    return 'new';
  }
  if (size === 0) {
    if (readOnly)
      throw new StoreUnavailableError(
        path,
        'is empty (never initialised): start ds01d once, or check --data-dir',
      );
    return 'new';
  }
  checkHeader(path, size);
  return 'existing';
}

function createEmptyFile(path: string): void {
  const folder = dirname(path);
  const firstCreated = mkdirSync(folder, { recursive: true, mode: DIRECTORY_MODE });
  // mkdir's mode is masked by the umask: set it exactly on every folder we made.
  if (firstCreated) {
    const made = relative(firstCreated, folder).split(sep).filter(Boolean);
    let current = firstCreated;
    chmodSync(current, DIRECTORY_MODE);
    for (const part of made) {
      current = resolve(current, part);
      chmodSync(current, DIRECTORY_MODE);
    }
  }
  try {
    closeSync(openSync(path, 'wx', FILE_MODE));
    chmodSync(path, FILE_MODE);
  } catch (error) {
    // Another process created it between our stat and open: it is theirs to initialise or already is.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new StoreUnavailableError(
        path,
        `cannot be created (${(error as Error).message}): check the folder's owner and mode`,
        {
          cause: error,
        },
      );
    }
  }
}

/**
 * Reads SQLite's 100-byte header (https://sqlite.org/fileformat.html#the_database_header): the magic
 * string, and the page count and size, which tell a file cut short. The count is only trusted when
 * the header says it is valid and no write-ahead log is pending (SQLite replays that on open).
 */
function checkHeader(path: string, size: number): void {
  const header = Buffer.alloc(HEADER_BYTES);
  const fd = openSync(path, 'r');
  let read: number;
  try {
    read = readSync(fd, header, 0, HEADER_BYTES, 0);
  } finally {
    closeSync(fd);
  }
  if (read < HEADER_BYTES || header.toString('latin1', 0, 16) !== SQLITE_MAGIC) {
    throw new StoreUnavailableError(
      path,
      'is not an SQLite database (a foreign or corrupted file); nothing was changed. Move it aside and restore the store from a backup, or point --data-dir elsewhere',
    );
  }
  const rawPageSize = header.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  const changeCounter = header.readUInt32BE(24);
  const pageCount = header.readUInt32BE(28);
  const validFor = header.readUInt32BE(92);
  if (pageCount > 0 && changeCounter === validFor && !hasPendingWal(path) && size < pageCount * pageSize) {
    throw new StoreUnavailableError(
      path,
      `is truncated: its header describes ${pageCount * pageSize} bytes but the file has ${size}; nothing was changed. Restore the store from a backup`,
    );
  }
}

function hasPendingWal(path: string): boolean {
  try {
    return statSync(`${path}-wal`).size > 0;
  } catch {
    return false;
  }
}

/** Opens the store's file in WAL mode with synchronous=FULL (an acknowledged append survives power loss). */
export function openDatabase(path: string, readOnly: boolean, busyTimeoutMs: number): DatabaseSync {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly, timeout: busyTimeoutMs });
    if (!readOnly) db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    db.exec(`PRAGMA cache_size = -${CACHE_KIB}`);
    return db;
  } catch (error) {
    db?.close();
    throw asStoreError(path, error);
  }
}
