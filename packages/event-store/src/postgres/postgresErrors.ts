import { EventStoreError, StoreUnavailableError, type StoreUnavailableReason } from '../errors.ts';

/**
 * SQLSTATE classes and codes after which the same request may simply be sent again once the server is
 * back: the connection broke or the server is shutting down, starting or recovering. Appends are safe to
 * resend (idempotent by event id: one that did commit is found and not written twice).
 */
const TRANSIENT_CODES = new Set(['57P01', '57P02', '57P03', '53300', '40001', '40P01']);
const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOENT',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
]);

/** Whether an error is the connection's, not the request's: worth retrying once the server answers. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || TRANSIENT_CODES.has(code) || TRANSIENT_NODE_CODES.has(code)) return true;
  }
  // The pg client's own words when a connection ends under a query, or cannot be made in time.
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(
    error.message,
  );
}

/** Translates the server's and the client's errors into StoreUnavailableError naming the server and what to do. */
export function asPostgresError(location: string, error: unknown): unknown {
  if (error instanceof EventStoreError) return error;
  if (!(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  const say = (problem: string, reason: StoreUnavailableReason = 'other') =>
    new StoreUnavailableError(location, `${problem} (${error.message})`, { cause: error, reason });
  if (isTransient(error))
    return say(
      'cannot be reached: check that PostgreSQL is running and DS01_EVENTSTORE_URL / event_store.url',
      'io',
    );
  switch (code) {
    case '28P01':
    case '28000':
      return say('refused access: check the user and password in the connection string');
    case '3D000':
      return say(
        'has no such database: create it (createdb) or fix the database name in the connection string',
      );
    case '42501':
      return say(
        'refused a privilege DS01 needs: the user must be able to create the schema and its tables, or own them',
      );
    case '25006':
      return say(
        'is a read-only server (a standby): point the connection string at the primary',
        'read_only',
      );
    case '53100':
      return say(
        "is out of disk space: free space on the server's data directory, then DS01 goes on",
        'disk_full',
      );
    default:
      return new StoreUnavailableError(location, error.message, { cause: error });
  }
}
