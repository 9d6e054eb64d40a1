import type { ClientBase } from 'pg';
import { StoreUnavailableError } from '../errors.ts';
import type { PostgresTarget } from './connection.ts';

const SCHEMA_VERSION = '1';

/**
 * The log's tables in its own schema. `position` is an identity column whose values are taken only while
 * the append lock is held (see postgresAppender.ts), so positions grow in commit order: a reader never
 * sees a position before every smaller one is visible. `data` and `metadata` are `json`, kept as the exact
 * text DS01 wrote (idempotent re-appends compare it) and queryable with PostgreSQL's JSON operators.
 */
export function createSql(schema: string): string {
  const s = `"${schema}"`;
  return `
    CREATE SCHEMA IF NOT EXISTS ${s};
    CREATE TABLE IF NOT EXISTS ${s}.ds01_store (key text PRIMARY KEY, value text NOT NULL);
    INSERT INTO ${s}.ds01_store (key, value) VALUES ('format', 'ds01-event-store'), ('schema_version', '${SCHEMA_VERSION}')
      ON CONFLICT (key) DO NOTHING;
    CREATE TABLE IF NOT EXISTS ${s}.events (
      position  bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      stream_id text    NOT NULL,
      revision  bigint  NOT NULL,
      event_id  uuid    NOT NULL,
      type      text    NOT NULL,
      version   integer NOT NULL,
      data      json    NOT NULL,
      metadata  json    NOT NULL,
      CONSTRAINT events_stream_revision UNIQUE (stream_id, revision),
      CONSTRAINT events_event_id UNIQUE (event_id)
    );`;
}

/**
 * Creates the log's schema and tables when they are missing (under the append lock, so two hosts starting
 * at once do not race on CREATE), then checks that what is there is a DS01 log this code reads. A schema
 * that holds tables of something else is refused without a change.
 */
export async function prepareSchema(
  client: ClientBase,
  target: PostgresTarget,
  readOnly: boolean,
): Promise<void> {
  const [k1, k2] = target.lockKeys;
  await client.query('BEGIN');
  try {
    if (!readOnly) await client.query(`SELECT pg_advisory_xact_lock(${k1}, ${k2})`);
    const found = await client.query<{ tables: string[] | null }>(
      'SELECT array_agg(table_name::text) AS tables FROM information_schema.tables WHERE table_schema = $1',
      [target.schema],
    );
    const tables = new Set(found.rows[0]?.tables ?? []);
    if (tables.size > 0 && !tables.has('ds01_store'))
      throw new StoreUnavailableError(
        target.location,
        `has schema '${target.schema}' with tables of another application, not a DS01 log; nothing was changed. Choose another ?schema=`,
      );
    if (tables.size === 0 && readOnly)
      throw new StoreUnavailableError(
        target.location,
        `has no DS01 log in schema '${target.schema}' yet: start ds01d once (it creates it), or check ?schema=`,
      );
    if (!readOnly) await client.query(createSql(target.schema));
    const version = await client.query<{ value: string }>(
      `SELECT value FROM "${target.schema}".ds01_store WHERE key = 'schema_version'`,
    );
    const stored = version.rows[0]?.value;
    if (stored !== SCHEMA_VERSION)
      throw new StoreUnavailableError(
        target.location,
        `has store schema version ${stored ?? '(none)'} in schema '${target.schema}', this DS01 reads version ${SCHEMA_VERSION}: upgrade DS01`,
      );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
