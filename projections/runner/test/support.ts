import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { eventCatalog, UserDeparted, UserRegistered } from '@ds01/domain';
import { type NewEvent, SqliteEventStore } from '@ds01/event-store';
import type { Projection } from '../projection.ts';

/** A fresh folder under the OS temp dir; remove() deletes it. */
export function tempDir(prefix = 'ds01-projections-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function openStore(dir: string): SqliteEventStore {
  return new SqliteEventStore({ path: join(dir, 'events.db'), codec: eventCatalog, pollIntervalMs: 20 });
}

export function newEvent(
  event: { type: string; data: unknown },
  occurredAt = new Date().toISOString(),
): NewEvent {
  return {
    ...event,
    metadata: {
      eventId: randomUUID(),
      occurredAt,
      actor: { kind: 'service', name: 'projection-test' },
      host: 'test-host',
      correlationId: randomUUID(),
      causationId: null,
    },
  };
}

/** Appends a lab's worth of user churn: registrations, departures, returns, across n users. */
export async function appendUserChurn(store: SqliteEventStore, count: number, offset = 0): Promise<void> {
  for (let i = offset; i < offset + count; i++) {
    const user = `user${i % 97}`;
    const event =
      i % 3 === 2
        ? UserDeparted({ user, reason: `reason ${i}` })
        : UserRegistered({ user, uid: 1000 + i, group: i % 2 ? 'students' : 'staff' });
    await store.append(`user-${user}`, [newEvent(event, new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString())]);
  }
}

/**
 * A projection that reads every event and counts applications per stream and type: applying an
 * event twice, or skipping one, shows in its counts.
 */
export const eventCountsProjection: Projection = {
  name: 'event_counts',
  version: 1,
  description: 'test: events per stream and type',
  eventTypes: [],
  setup(db) {
    db.exec(`CREATE TABLE IF NOT EXISTS event_counts (
      stream TEXT NOT NULL, type TEXT NOT NULL, n INTEGER NOT NULL, last_position INTEGER NOT NULL,
      PRIMARY KEY (stream, type))`);
  },
  reset(db) {
    db.exec('DROP TABLE IF EXISTS event_counts');
  },
  apply(db, event) {
    db.prepare(
      `INSERT INTO event_counts (stream, type, n, last_position) VALUES (?, ?, 1, ?)
       ON CONFLICT (stream, type) DO UPDATE SET n = n + 1, last_position = excluded.last_position`,
    ).run(event.streamId, event.type, event.position);
  },
};

/** Every row of every read-model table (checkpoints excluded), in a stable order. */
export function dumpTables(db: DatabaseSync): Record<string, unknown[]> {
  const tables = db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'checkpoints' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .all() as { name: string }[];
  const dump: Record<string, unknown[]> = {};
  for (const { name } of tables) {
    const rows = db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[];
    dump[name] = rows
      .map((row) => ({ ...row }))
      .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  }
  return dump;
}

/** Appends `count` registrations in appends of 100 events (fast: one transaction per append). */
export async function appendBulk(store: SqliteEventStore, count: number): Promise<void> {
  for (let start = 0; start < count; start += 100) {
    const events = [];
    for (let i = start; i < Math.min(count, start + 100); i++) {
      events.push(newEvent(UserRegistered({ user: `bulk${i % 500}`, uid: i, group: `g${i % 7}` })));
    }
    await store.append(`bulk-${start / 100}`, events);
  }
}

/** A projection that spends time in apply(), so that a kill lands inside a transaction. */
export const slowCountsProjection: Projection = {
  ...eventCountsProjection,
  name: 'slow_counts',
  setup(db) {
    db.exec(`CREATE TABLE IF NOT EXISTS slow_counts (stream TEXT NOT NULL, type TEXT NOT NULL,
      n INTEGER NOT NULL, PRIMARY KEY (stream, type))`);
  },
  reset(db) {
    db.exec('DROP TABLE IF EXISTS slow_counts');
  },
  apply(db, event) {
    const until = performance.now() + 0.3;
    while (performance.now() < until) {
      // Busy on purpose: a slow apply() widens the window a kill can hit.
    }
    db.prepare(
      `INSERT INTO slow_counts (stream, type, n) VALUES (?, ?, 1)
       ON CONFLICT (stream, type) DO UPDATE SET n = n + 1`,
    ).run(event.streamId, event.type);
  },
};
