import type { EventCodec } from './codec.ts';
import type { EventStore } from './eventStore.ts';
import { isPostgresUrl } from './postgres/connection.ts';
import { SqliteEventStore } from './sqlite/sqliteEventStore.ts';

export interface OpenEventStoreOptions {
  /**
   * Connection string from configuration: postgres://user@host/db?schema=ds01 for PostgreSQL,
   * kurrentdb://host:2113?tls=false (or esdb://) for EventStoreDB. When absent, DS01_EVENTSTORE_URL is
   * used; when both are absent, the embedded SQLite store at `path`.
   */
  url?: string;
  /** File of the embedded store (e.g. /var/lib/ds01/events.sqlite). */
  path: string;
  codec: EventCodec;
  readOnly?: boolean;
  /**
   * How long a server store (PostgreSQL) waits for a server it cannot reach before a call fails: ds01d
   * waits out a restart (the default, 30 s); a CLI command says so sooner.
   */
  unavailableTimeoutMs?: number;
}

/**
 * Opens the log DS01 is configured for: PostgreSQL or EventStoreDB when a connection string is given,
 * else SQLite. The server clients are loaded only when used: EventStoreDB's (gRPC, a native bridge)
 * would add a fifth of a second to every `ds01` command on the embedded store.
 */
export async function openEventStore(
  options: OpenEventStoreOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<EventStore> {
  const url = options.url || env.DS01_EVENTSTORE_URL;
  const readOnly = options.readOnly ?? false;
  if (url && isPostgresUrl(url)) {
    const { PostgresEventStore } = await import('./postgres/postgresEventStore.ts');
    return new PostgresEventStore({
      url,
      codec: options.codec,
      readOnly,
      ...(options.unavailableTimeoutMs === undefined
        ? {}
        : { unavailableTimeoutMs: options.unavailableTimeoutMs }),
    });
  }
  if (url) {
    const { EventStoreDbEventStore } = await import('./eventstoredb/eventStoreDbEventStore.ts');
    return new EventStoreDbEventStore({ url, codec: options.codec, readOnly });
  }
  return new SqliteEventStore({ path: options.path, codec: options.codec, readOnly });
}
