import { createHash } from 'node:crypto';
import { StoreUnavailableError } from '../errors.ts';
import { redactUrl } from '../redactUrl.ts';

/** Where one DS01 log lives on a PostgreSQL server. */
export interface PostgresTarget {
  /** What the `pg` client connects with: the url less DS01's own `schema` parameter. */
  connectionString: string;
  /** The PostgreSQL schema that holds this log's tables: one server (or database) can hold several logs. */
  schema: string;
  /** The url with its password hidden, for messages and `ds01 store stats`. */
  location: string;
  /** Channel of the NOTIFY that every append sends, which subscriptions LISTEN on. */
  channel: string;
  /** Keys of the transaction-level advisory lock that serialises this log's appends. */
  lockKeys: readonly [number, number];
}

export const DEFAULT_SCHEMA = 'ds01';
/** Short enough that the NOTIFY channel named after it stays within PostgreSQL's 63-byte identifiers. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,39}$/;
/** "DS01" in ASCII, the first key of the append lock (the second is the schema's). */
const LOCK_CLASS = 0x44533031;

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * Reads a DS01 PostgreSQL url: `postgres://user:password@host:5432/db?schema=ds01` (any parameter the
 * `pg` client knows, e.g. `host=/run/postgresql` for a unix socket or `sslmode=require`); `schema`
 * (default ds01) names the schema of the log's tables. A schema given in `options` wins over the url's.
 */
export function postgresTarget(url: string, schemaOverride?: string): PostgresTarget {
  const location = redactUrl(url);
  let schema = DEFAULT_SCHEMA;
  const connectionString = url.replace(
    /([?&])schema=([^&]*)(&?)/,
    (_all, before: string, value: string, after) => {
      schema = decodeURIComponent(value);
      return after ? before : '';
    },
  );
  schema = schemaOverride ?? schema;
  if (!SCHEMA_NAME.test(schema))
    throw new StoreUnavailableError(
      location,
      `has schema '${schema}': a schema name is 1 to 40 lowercase letters, digits or '_', not starting with a digit`,
    );
  const objectKey = createHash('sha256').update(schema).digest().readInt32BE(0);
  return {
    connectionString: connectionString.replace(/[?&]$/, ''),
    schema,
    location,
    channel: `ds01_appended_${schema}`,
    lockKeys: [LOCK_CLASS, objectKey],
  };
}
