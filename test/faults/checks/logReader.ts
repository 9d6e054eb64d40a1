import { join } from 'node:path';
import { containerStream, dockerHistoryStream, eventCatalog, gpuPoolStream } from '@ds01/domain';
import { type RecordedEvent, SqliteEventStore } from '@ds01/event-store';

/** What the checks read from a snapshot's log: the pool stream and the harness's container streams. */
export interface LogView {
  pool: RecordedEvent[];
  /** By container id: every harness container's stream (those the ledger names, or labelled as this run's). */
  containers: Map<string, RecordedEvent[]>;
  /** The host's DockerHistoryMissed events: spans of Docker's history the watcher could no longer replay. */
  historyMissed: RecordedEvent[];
}

/** Reads a snapshot's log through the event store API (as any consumer of the log would). */
export async function readLog(
  dataDir: string,
  options: { host: string; containerIds: Iterable<string>; runLabel: string },
): Promise<LogView> {
  const store = new SqliteEventStore({
    path: join(dataDir, 'events.db'),
    codec: eventCatalog,
    readOnly: true,
  });
  try {
    const pool: RecordedEvent[] = [];
    for await (const event of store.readStream(gpuPoolStream(options.host))) pool.push(event);
    const [key, value] = options.runLabel.split('=') as [string, string];
    const wanted = new Set([...options.containerIds].map(containerStream));
    const containers = new Map<string, RecordedEvent[]>();
    for await (const event of store.readAll({ filter: { streamPrefixes: ['container-'] } })) {
      const labels = (event.data as { labels?: Record<string, string> }).labels;
      if (event.type === 'ContainerCreated' && labels?.[key] === value) wanted.add(event.streamId);
      if (!wanted.has(event.streamId)) continue;
      const id = event.streamId.slice('container-'.length);
      containers.set(id, [...(containers.get(id) ?? []), event]);
    }
    // A stream named by the ledger but with no event yet is an empty stream, not a missing key.
    for (const stream of wanted) {
      const id = stream.slice('container-'.length);
      if (!containers.has(id)) containers.set(id, []);
    }
    const historyMissed: RecordedEvent[] = [];
    for await (const event of store.readStream(dockerHistoryStream(options.host))) historyMissed.push(event);
    return { pool, containers, historyMissed };
  } finally {
    await store.close();
  }
}
