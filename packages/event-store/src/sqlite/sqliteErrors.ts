import { accessSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import { EventStoreError, StoreUnavailableError } from '../errors.ts';

// SQLite's primary result codes (https://sqlite.org/rescode.html) that mean "the file", not "a bug".
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_READONLY = 8;
const SQLITE_IOERR = 10;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;

/**
 * Translates an error from node:sqlite into a StoreUnavailableError that names the file and says
 * what to do. Errors that are already the store's own (schema, concurrency) pass through unchanged.
 */
export function asStoreError(path: string, error: unknown): unknown {
  if (error instanceof EventStoreError || !isSqliteError(error)) return error;
  const primary = error.errcode & 0xff;
  // SQLite says "unable to open" or "readonly" alike for a folder it may not write and a disk
  // that turned read-only; only the second is cured by a remount, so say which it is.
  if (
    (primary === SQLITE_READONLY || primary === SQLITE_CANTOPEN || primary === SQLITE_IOERR) &&
    onReadOnlyDisk(path)
  ) {
    return new StoreUnavailableError(
      path,
      `is on a read-only disk (${error.message}); nothing was written. Remount it read-write ` +
        `(\`findmnt -T ${dirname(path)}\`, then \`mount -o remount,rw <its mount point>\`) and retry`,
      { cause: error, reason: 'read_only' },
    );
  }
  switch (primary) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return new StoreUnavailableError(
        path,
        'is locked by another process that holds a write transaction and did not finish within the busy timeout; ' +
          'retry, or find the process with `fuser -v` on the file',
        { cause: error, reason: 'locked' },
      );
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return new StoreUnavailableError(
        path,
        `is corrupted or not a DS01 store (${error.message}); nothing was changed. Restore it from a backup`,
        { cause: error, reason: 'corrupt' },
      );
    case SQLITE_READONLY:
      return new StoreUnavailableError(
        path,
        `is read-only for this process (${error.message}): check its owner and mode, and whether the disk ` +
          `holding it turned read-only (\`findmnt -T ${dirname(path)}\`: remount it read-write); then retry`,
        { cause: error, reason: 'read_only' },
      );
    case SQLITE_FULL:
      return new StoreUnavailableError(
        path,
        `cannot grow: the disk is full (${error.message}); free space and retry`,
        { cause: error, reason: 'disk_full' },
      );
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      return new StoreUnavailableError(
        path,
        `cannot be read or written (${error.message}): check the disk, the folder's mode and the file's owner`,
        { cause: error, reason: 'io' },
      );
    default:
      return new StoreUnavailableError(path, error.message, { cause: error });
  }
}

/** access(2) answers EROFS for a write to a read-only filesystem, whoever asks. */
function onReadOnlyDisk(path: string): boolean {
  try {
    accessSync(dirname(path), constants.W_OK);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EROFS';
  }
}

function isSqliteError(error: unknown): error is Error & { errcode: number } {
  return (
    error instanceof Error &&
    (error as { code?: unknown }).code === 'ERR_SQLITE_ERROR' &&
    typeof (error as { errcode?: unknown }).errcode === 'number'
  );
}
