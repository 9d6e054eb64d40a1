import type { DatabaseSync } from 'node:sqlite';
import {
  type ContainerState,
  type ContainerStreamEvent,
  containerOwner,
  containerStreamEventTypes,
  evolveContainerState,
  type GpuAccess,
} from '@ds01/domain';
import { z } from 'zod';
import { defineProjection, preparedOnce } from '../runner/projection.ts';

/**
 * Every container DS01 has seen: one row per container with who owns it (and the rule that said so),
 * what made it, its state and GPU access — `ds01 containers` reads it. Each row keeps the container's
 * full state (the domain's ContainerState, as JSON) so that apply() is the domain's own
 * evolveContainerState: the read model and the watcher's reconciliation cannot disagree on a fold.
 * The owner columns are containerOwner's: the verified owner (the gateway's ContainerCreateAuthorized,
 * before or after the watcher's events) where there is one, else the description's claim.
 */
export const containersProjection = defineProjection({
  name: 'containers',
  // 2: ContainerCreated carries Docker's facts only; the description comes with ContainerDescribed.
  // 3: the host whose watcher recorded the container (several hosts may share one log).
  // 4: owner_verified (a verified owner, or a claim its creator wrote).
  // 5: ContainerCreateAuthorized folded in: the gateway's socket user is the (verified) owner.
  version: 5,
  description: 'containers: owner and attribution rule, interface, type, state, GPU access, idle since',
  eventTypes: [...containerStreamEventTypes],
  setup(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS containers (
        container_id    TEXT PRIMARY KEY,
        host            TEXT NOT NULL,
        name            TEXT NOT NULL,
        status          TEXT NOT NULL,
        owner           TEXT,
        owner_rule      TEXT,
        owner_verified  INTEGER NOT NULL,
        interface       TEXT,
        type            TEXT,
        managed         INTEGER NOT NULL,
        infrastructure  INTEGER NOT NULL,
        unmanaged       INTEGER NOT NULL,
        image           TEXT,
        gpu             TEXT NOT NULL,
        created_at      TEXT,
        started_at      TEXT,
        finished_at     TEXT,
        removed_at      TEXT,
        exit_code       INTEGER,
        idle_since      TEXT,
        last_event_at   TEXT NOT NULL,
        state           TEXT NOT NULL
      )`);
    db.exec('CREATE INDEX IF NOT EXISTS containers_owner ON containers (owner)');
    db.exec('CREATE INDEX IF NOT EXISTS containers_name ON containers (name)');
    db.exec('CREATE INDEX IF NOT EXISTS containers_host ON containers (host)');
  },
  reset(db) {
    db.exec('DROP TABLE IF EXISTS containers');
  },
  apply(db, event) {
    const sql = statements(db);
    const id = event.data.containerId;
    const row = sql.state.get(id) as { state: string } | undefined;
    const previous = row ? (JSON.parse(row.state) as ContainerState) : undefined;
    const domainEvent = { type: event.type, data: event.data } as ContainerStreamEvent;
    const state = evolveContainerState(previous, domainEvent, event.metadata.occurredAt);
    const d = state.description;
    const owner = containerOwner(state);
    sql.upsert.run(
      state.containerId,
      // The host of the container's first event: its own host's watcher recorded it.
      event.metadata.host,
      state.name,
      state.status,
      owner?.user ?? null,
      owner?.rule ?? null,
      owner?.verified ? 1 : 0,
      d?.interface ?? null,
      d?.type ?? null,
      d?.managed ? 1 : 0,
      d?.infrastructure ? 1 : 0,
      state.unmanaged ? 1 : 0,
      state.image ?? d?.image ?? null,
      d ? gpuSummary(d.gpu) : 'unknown',
      d?.createdAt ?? state.createdAt,
      state.startedAt,
      state.finishedAt,
      state.removedAt,
      state.exitCode,
      state.idleSince,
      state.lastEventAt,
      JSON.stringify(state),
    );
  },
});

/** One word for a table cell: none, all, 2, or the devices ("GPU-1a2b,1.2"). */
export function gpuSummary(gpu: GpuAccess): string {
  switch (gpu.access) {
    case 'none':
    case 'unknown':
    case 'all':
      return gpu.access;
    case 'count':
      return String(gpu.count);
    case 'specific':
      return gpu.devices.join(',');
  }
}

const statements = preparedOnce((db: DatabaseSync) => ({
  state: db.prepare('SELECT state FROM containers WHERE container_id = ?'),
  upsert: db.prepare(
    `INSERT INTO containers (container_id, host, name, status, owner, owner_rule, owner_verified, interface,
       type, managed, infrastructure, unmanaged, image, gpu, created_at, started_at, finished_at, removed_at,
       exit_code, idle_since, last_event_at, state)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (container_id) DO UPDATE SET name = excluded.name, status = excluded.status,
       owner = excluded.owner, owner_rule = excluded.owner_rule, owner_verified = excluded.owner_verified,
       interface = excluded.interface,
       type = excluded.type, managed = excluded.managed, infrastructure = excluded.infrastructure,
       unmanaged = excluded.unmanaged, image = excluded.image, gpu = excluded.gpu,
       created_at = excluded.created_at, started_at = excluded.started_at, finished_at = excluded.finished_at,
       removed_at = excluded.removed_at, exit_code = excluded.exit_code, idle_since = excluded.idle_since,
       last_event_at = excluded.last_event_at, state = excluded.state`,
  ),
}));

/** A row of the containers table, as readers get it (ReadModel.query(ContainerRow, ...)). */
export const ContainerRow = z.object({
  container_id: z.string(),
  host: z.string(),
  name: z.string(),
  status: z.enum(['created', 'running', 'paused', 'exited', 'removed']),
  owner: z.string().nullable(),
  owner_rule: z.string().nullable(),
  /** 1: the owner is verified (created through their gateway socket); 0: a claim, or no owner. */
  owner_verified: z.number().int(),
  interface: z.string().nullable(),
  type: z.string().nullable(),
  managed: z.number().int(),
  infrastructure: z.number().int(),
  unmanaged: z.number().int(),
  image: z.string().nullable(),
  gpu: z.string(),
  created_at: z.string().nullable(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  removed_at: z.string().nullable(),
  exit_code: z.number().int().nullable(),
  idle_since: z.string().nullable(),
  last_event_at: z.string(),
});
export type ContainerRow = z.infer<typeof ContainerRow>;

/** The columns of ContainerRow, for SELECTs (the state JSON stays out of reads). */
export const CONTAINER_ROW_COLUMNS = Object.keys(ContainerRow.shape).join(', ');
