import type { EventCodec } from './codec.ts';
import type { EventStore } from './eventStore.ts';
import { SqliteEventStore } from './sqlite/sqliteEventStore.ts';

export interface OpenEventStoreOptions {
  /**
   * EventStoreDB connection string from configuration (kurrentdb://host:2113?tls=false). When
   * absent, DS01_EVENTSTORE_URL is used; when both are absent, the embedded SQLite store at `path`.
   */
  url?: string;
  /** File of the embedded store (e.g. /var/lib/ds01/events.sqlite). */
  path: string;
  codec: EventCodec;
  readOnly?: boolean;
}

/**
 * Opens the log DS01 is configured for: EventStoreDB when a connection string is given, else
 * SQLite. The EventStoreDB client (gRPC, a native bridge) is loaded only when used: it would add
 * a fifth of a second to every `ds01` command on the embedded store.
 */
export async function openEventStore(
  options: OpenEventStoreOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<EventStore> {
  const url = options.url || env.DS01_EVENTSTORE_URL;
  const readOnly = options.readOnly ?? false;
  if (url) {
    const { EventStoreDbEventStore } = await import('./eventstoredb/eventStoreDbEventStore.ts');
    return new EventStoreDbEventStore({ url, codec: options.codec, readOnly });
  }
  return new SqliteEventStore({ path: options.path, codec: options.codec, readOnly });
}
