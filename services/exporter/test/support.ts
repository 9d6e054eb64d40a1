import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventCatalog } from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import { allProjections, openProjectionsDb, ProjectionRunner, ReadModel } from '@ds01/projections';
import { Exporter } from '../src/exporter.ts';
import { HOST, labHistory } from './labHistory.ts';

/** A data dir holding the lab's history on the log and caught-up read models, and an exporter on them. */
/** `live`: the exporter's clock runs (open allocations grow, counters move) and it refreshes every second. */
export async function exporterOnLab(
  now: Date,
  options: { live?: boolean } = {},
): Promise<{
  exporter: Exporter;
  url: string;
  target: string;
  store: SqliteEventStore;
  close(): Promise<void>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'ds01-exporter-'));
  const store = new SqliteEventStore({ path: join(dir, 'events.db'), codec: eventCatalog });
  for (const { stream, event, at } of labHistory(now)) {
    await store.append(stream, [
      {
        ...event,
        metadata: {
          eventId: randomUUID(),
          occurredAt: at,
          actor: { kind: 'service', name: 'test' },
          host: HOST,
          correlationId: randomUUID(),
          causationId: null,
        },
      },
    ]);
  }
  const db = openProjectionsDb(join(dir, 'projections.db'));
  const runner = new ProjectionRunner({ store, db, projections: allProjections });
  runner.prepare();
  await runner.catchUp();
  const readModel = new ReadModel(join(dir, 'projections.db'));
  const exporter = new Exporter({
    readModel,
    store,
    host: HOST,
    dataDir: dir,
    bind: '127.0.0.1',
    port: 0,
    refreshMs: options.live ? 1000 : 60_000,
    projections: () => runner.status(),
    projectionEventTypes: (name) => allProjections.find((p) => p.name === name)?.eventTypes,
    health: () => [{ service: 'docker-watcher', name: 'connected', value: 1 }],
    sessions: async () => [{ user: 'alice', count: 2 }],
    clock: options.live ? () => new Date() : () => now,
  });
  const address = await exporter.start();
  const target = `127.0.0.1:${address.port}`;
  return {
    exporter,
    url: `http://${target}`,
    target,
    store,
    async close() {
      await exporter.stop();
      readModel.close();
      db.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
