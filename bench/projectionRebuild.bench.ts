// Rebuild of the users projection from the log (read + decode + apply, in batched transactions
// with the checkpoint) against raw node:sqlite doing the same work in the same run: read the rows
// in pages, JSON.parse them, upsert into the same table with the same SQL, 1000 per transaction.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { eventCatalog, UserDeparted, UserRegistered } from '@ds01/domain';
import { type NewEvent, SqliteEventStore } from '@ds01/event-store';
import { openProjectionsDb, ProjectionRunner, usersProjection } from '@ds01/projections';
import type { BenchContext, BenchFile, BenchResult } from './lib/benchFile.ts';
import { measure } from './lib/measure.ts';

const BATCH = 1000;

/** Lab churn: registrations of 5000 users, every fifth event a departure. */
function userEvent(i: number): NewEvent {
  const user = `user${i % 5000}`;
  const event =
    i % 5 === 4
      ? UserDeparted({ user, reason: 'left the lab' })
      : UserRegistered({ user, uid: 10_000 + i, group: i % 3 ? 'students' : 'researchers' });
  return {
    ...event,
    metadata: {
      eventId: randomUUID(),
      occurredAt: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString(),
      actor: { kind: 'service', name: 'bench' },
      host: 'gpu-host-1',
      correlationId: randomUUID(),
      causationId: null,
    },
  };
}

async function fillStore(store: SqliteEventStore, count: number): Promise<void> {
  for (let start = 0; start < count; start += BATCH) {
    const events = Array.from({ length: Math.min(BATCH, count - start) }, (_, i) => userEvent(start + i));
    await store.append(`user-bench-${start / BATCH}`, events);
  }
}

/** The baseline: what a hand-written rebuild on node:sqlite does, without DS01 in between. */
function rawRebuild(eventsPath: string, projectionsPath: string): number {
  const log = new DatabaseSync(eventsPath, { readOnly: true });
  const db = new DatabaseSync(projectionsPath);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  usersProjection.setup(db);
  const page = log.prepare(
    "SELECT position, stream_id, type, data, metadata FROM events WHERE position > ? AND type IN ('UserRegistered', 'UserDeparted') ORDER BY position LIMIT ?",
  );
  const register = db.prepare(
    `INSERT INTO users (user, uid, "group", registered_at, departed_at, departure_reason)
     VALUES (?, ?, ?, ?, NULL, NULL)
     ON CONFLICT (user) DO UPDATE SET uid = excluded.uid, "group" = excluded."group",
       registered_at = excluded.registered_at, departed_at = NULL, departure_reason = NULL`,
  );
  const depart = db.prepare('UPDATE users SET departed_at = ?, departure_reason = ? WHERE user = ?');
  let after = 0;
  let applied = 0;
  for (;;) {
    const rows = page.all(after, BATCH) as {
      position: number;
      type: string;
      data: string;
      metadata: string;
    }[];
    if (rows.length === 0) break;
    db.exec('BEGIN IMMEDIATE');
    for (const row of rows) {
      const data = JSON.parse(row.data);
      const { occurredAt } = JSON.parse(row.metadata);
      if (row.type === 'UserRegistered') register.run(data.user, data.uid, data.group, occurredAt);
      else depart.run(occurredAt, data.reason, data.user);
    }
    db.exec('COMMIT');
    applied += rows.length;
    after = rows.at(-1)!.position;
  }
  db.close();
  log.close();
  return applied;
}

const bench: BenchFile = {
  name: 'Projection rebuild',
  description:
    'Rebuild of the users projection from position 0: DS01 reads the log through the SQLite store ' +
    '(decoding every event through the catalog: upcast when older, its data not parsed by the schema again ' +
    'when it is at the current version, as the runner reads with `revalidate: false`), applies it with the ' +
    'projection runner in ' +
    'transactions of 1000 events with the checkpoint. The raw baseline reads the same rows from the ' +
    'same file with node:sqlite, JSON.parses them and upserts into the same table with the same SQL, ' +
    '1000 per transaction. Both start from an empty projections database.',
  async run({ workDir, quick }: BenchContext): Promise<BenchResult[]> {
    const count = quick ? 20_000 : 200_000;
    const eventsPath = join(workDir, 'events.db');
    const store = new SqliteEventStore({ path: eventsPath, codec: eventCatalog });
    await fillStore(store, count);
    const projectionsPath = join(workDir, 'projections.db');
    const fresh = () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(projectionsPath + suffix, { force: true });
    };
    const name = `rebuild users projection, ${count.toLocaleString('en-US')} events`;
    const repetitions = quick ? 2 : 5;
    const results: BenchResult[] = [];

    results.push(
      await measure({
        name,
        variant: 'raw node:sqlite',
        eventsPerRepetition: count,
        warmup: 1,
        repetitions,
        before: fresh,
        run: () => {
          const applied = rawRebuild(eventsPath, projectionsPath);
          if (applied !== count) throw new Error(`raw rebuild applied ${applied} of ${count} events`);
        },
      }),
    );

    let db: DatabaseSync | undefined;
    results.push(
      await measure({
        name,
        variant: 'ds01',
        eventsPerRepetition: count,
        warmup: 1,
        repetitions,
        before: () => {
          db?.close();
          fresh();
          db = openProjectionsDb(projectionsPath);
        },
        run: async () => {
          const runner = new ProjectionRunner({
            store,
            db: db!,
            projections: [usersProjection],
            batchSize: BATCH,
          });
          const [status] = await runner.rebuild(['users']);
          if (status?.position !== count)
            throw new Error(`ds01 rebuild stopped at ${status?.position} of ${count}`);
        },
        baseline: 'raw node:sqlite',
        targetEventsPerSecond: 200_000,
        targetRatio: 0.7,
      }),
    );
    db?.close();
    await store.close();
    return results;
  },
};

export default bench;
