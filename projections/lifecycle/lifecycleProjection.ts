import type { DatabaseSync } from 'node:sqlite';
import {
  ContainerCreateAuthorized,
  ContainerResourceWindowRecorded,
  containerEvents,
  containersOfLifecycleEvent,
  evolveLifecycle,
  GpuUsageWindowRecorded,
  initialLifecycleState,
  LIFECYCLE_STREAM_PREFIX,
  type LifecycleEvent,
  type LifecycleState,
  lifecycleEvents,
} from '@ds01/domain';
import { z } from 'zod';
import { defineProjection, preparedOnce } from '../runner/projection.ts';

const EVENT_TYPES = [
  ...[
    ...containerEvents,
    ContainerCreateAuthorized,
    GpuUsageWindowRecorded,
    ContainerResourceWindowRecorded,
    ...lifecycleEvents,
  ].map((e) => e.type),
  'UserRegistered' as const,
  'UserDeparted' as const,
];

/**
 * Every container's lifecycle state (packages/domain/src/lifecycle: its life, its usage windows,
 * the decisions on its `lifecycle-<id>` stream), folded by the domain's own evolve and kept as JSON,
 * with the columns `ds01 lifecycle` sorts and filters by. It is also what the lifecycle service and
 * the enforcer decide on: `revision` is the lifecycle stream's, their expected revision.
 * A window for a container the log has no other event of makes no row. `lifecycle_departures`
 * holds who left the lab (UserDeparted, until registered again), whether DS01 registered them or
 * not: the owner of a raw-docker container may never have been.
 */
export const lifecycleProjection = defineProjection({
  name: 'lifecycle',
  // 2: ContainerCreateAuthorized folded in (a verified owner; only theirs go when they depart).
  version: 2,
  description: "each container's lifecycle: idleness, the retirement pending and why, its last outcome",
  eventTypes: EVENT_TYPES,
  setup(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS lifecycle (
        container_id   TEXT PRIMARY KEY,
        name           TEXT NOT NULL,
        user           TEXT,
        status         TEXT NOT NULL,
        idle_since     TEXT,
        pending_reason TEXT,
        pending_at     TEXT,
        revision       INTEGER NOT NULL,
        state          TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS lifecycle_pending ON lifecycle (pending_at) WHERE pending_at IS NOT NULL;
      CREATE INDEX IF NOT EXISTS lifecycle_user ON lifecycle (user);
      CREATE TABLE IF NOT EXISTS lifecycle_departures (
        user        TEXT PRIMARY KEY,
        departed_at TEXT NOT NULL,
        reason      TEXT NOT NULL
      );`);
  },
  reset(db) {
    db.exec('DROP TABLE IF EXISTS lifecycle; DROP TABLE IF EXISTS lifecycle_departures');
  },
  apply(db, event) {
    const sql = statements(db);
    if (event.type === 'UserDeparted') {
      sql.depart.run(event.data.user, event.metadata.occurredAt, event.data.reason);
      return;
    }
    if (event.type === 'UserRegistered') {
      sql.returned.run(event.data.user);
      return;
    }
    const domainEvent = { type: event.type, data: event.data } as LifecycleEvent;
    const isWindow =
      event.type === 'GpuUsageWindowRecorded' || event.type === 'ContainerResourceWindowRecorded';
    for (const containerId of containersOfLifecycleEvent(domainEvent)) {
      const row = sql.get.get(containerId) as { state: string; revision: number } | undefined;
      if (!row && isWindow) continue;
      const before: LifecycleState = row ? JSON.parse(row.state) : initialLifecycleState(containerId);
      const state = evolveLifecycle(before, domainEvent, event.metadata.occurredAt);
      const revision = event.streamId.startsWith(LIFECYCLE_STREAM_PREFIX)
        ? event.revision
        : (row?.revision ?? -1);
      sql.put.run(
        containerId,
        state.name,
        state.user,
        state.status,
        state.idleRecordedSince,
        state.pending?.reason ?? null,
        state.pending?.at ?? null,
        revision,
        JSON.stringify(state),
      );
    }
  },
});

const statements = preparedOnce((db: DatabaseSync) => ({
  get: db.prepare('SELECT state, revision FROM lifecycle WHERE container_id = ?'),
  // The first departure counts: a second one (the account check after `ds01 user depart`) changes nothing.
  depart: db.prepare(
    'INSERT INTO lifecycle_departures (user, departed_at, reason) VALUES (?, ?, ?) ON CONFLICT (user) DO NOTHING',
  ),
  returned: db.prepare('DELETE FROM lifecycle_departures WHERE user = ?'),
  put: db.prepare(
    `INSERT INTO lifecycle (container_id, name, user, status, idle_since, pending_reason, pending_at, revision, state)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (container_id) DO UPDATE SET name = excluded.name, user = excluded.user,
       status = excluded.status, idle_since = excluded.idle_since, pending_reason = excluded.pending_reason,
       pending_at = excluded.pending_at, revision = excluded.revision, state = excluded.state`,
  ),
}));

/** A row of the lifecycle table, with its state parsed. */
export const LifecycleRow = z
  .object({
    container_id: z.string(),
    name: z.string(),
    user: z.string().nullable(),
    status: z.string(),
    idle_since: z.string().nullable(),
    pending_reason: z.string().nullable(),
    pending_at: z.string().nullable(),
    revision: z.number().int(),
    state: z.string(),
  })
  .transform((row) => ({ ...row, state: JSON.parse(row.state) as LifecycleState }));
export type LifecycleRow = z.output<typeof LifecycleRow>;
