import type { DatabaseSync } from 'node:sqlite';
import { gpuActivityOf, gpuEquivalentsOf } from '@ds01/domain';
import { defineProjection, type ProjectedEvent, preparedOnce } from '../runner/projection.ts';

/**
 * A held GPU whose activity stays below this fraction for a window counts that window as waste
 * (ds01-infra's waste rule: utilisation < 5 %). A constant of the projection, not configuration:
 * apply() must depend on the events alone, so changing it means a new version (and a rebuild).
 */
export const IDLE_ACTIVITY = 0.05;

const POOL_PREFIX = 'gpu-pool-';

const USAGE_EVENT_TYPES = [
  'UserRegistered',
  'GpuAllocated',
  'GpuReleased',
  'GpuAllocationDenied',
  'GpuUsageWindowRecorded',
  'ContainerDescribed',
  'ContainerCreateAuthorized',
  'Ds01InfraEventImported',
] as const;
type UsageEvent = ProjectedEvent<(typeof USAGE_EVENT_TYPES)[number]>;
const DAY_MS = 86_400_000;

/**
 * Usage analytics: one row per UTC day and user, summed from the log, so any period (a week, a year,
 * all time) is a sum over at most days × users rows:
 *  - GPU-seconds allocated (GPU-equivalent weighted) from GpuAllocated … GpuReleased, split by day;
 *    allocations still open are in usage_open_allocations and added by the query up to its `now`;
 *  - GPU-seconds used (utilisation-weighted: SM active where DCGM gives it, else GR engine active,
 *    else GPU utilisation), idle (held and below IDLE_ACTIVITY: waste) and unknown (held, no
 *    activity reading: never counted as idle), from the usage windows;
 *  - energy (joules of the window, by who held the device; '' for a free one), container counts
 *    (one per container, on the day of its ContainerDescribed), grants and denials.
 * Who a row is charged to is never what a container's creator wrote: grants, releases and usage
 * windows name the allocation's user (the gateway's socket user, or the admin's `gpu allocate
 * --user`), and a container counts for its verified owner (the gateway's ContainerCreateAuthorized,
 * before or after the description) where there is one, its description's claim otherwise.
 * The group is the user's group when the row is first written (UserRegistered before it).
 */
export const usageProjection = defineProjection({
  name: 'usage',
  // 2: a container counts once, for its verified owner where the gateway recorded one (moved there
  //    when ContainerCreateAuthorized comes after the description).
  version: 2,
  description:
    'usage analytics: GPU-hours allocated and used, waste, energy, containers, denials by day and user',
  eventTypes: USAGE_EVENT_TYPES,
  setup(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS usage_daily (
        day              TEXT NOT NULL,
        user             TEXT NOT NULL,
        grp              TEXT NOT NULL,
        allocated_gpu_s  REAL NOT NULL DEFAULT 0,
        used_gpu_s       REAL NOT NULL DEFAULT 0,
        idle_gpu_s       REAL NOT NULL DEFAULT 0,
        unknown_gpu_s    REAL NOT NULL DEFAULT 0,
        energy_j         REAL NOT NULL DEFAULT 0,
        containers       INTEGER NOT NULL DEFAULT 0,
        grants           INTEGER NOT NULL DEFAULT 0,
        denials          INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (day, user)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS usage_daily_user ON usage_daily (user, day);
      CREATE TABLE IF NOT EXISTS usage_open_allocations (
        host     TEXT NOT NULL,
        slot     TEXT NOT NULL,
        user     TEXT NOT NULL,
        gpu_eq   REAL NOT NULL,
        since_ms INTEGER NOT NULL,
        PRIMARY KEY (host, slot)
      );
      CREATE TABLE IF NOT EXISTS usage_legacy_open (
        container TEXT NOT NULL,
        slot      TEXT NOT NULL,
        user      TEXT NOT NULL,
        gpu_eq    REAL NOT NULL,
        since_ms  INTEGER NOT NULL,
        PRIMARY KEY (container, slot)
      );
      CREATE TABLE IF NOT EXISTS usage_user_groups (
        user TEXT PRIMARY KEY,
        grp  TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS usage_containers (
        container_id TEXT PRIMARY KEY,
        verified     TEXT,
        day          TEXT,
        counted      TEXT
      ) WITHOUT ROWID;`);
  },
  reset(db) {
    db.exec(`
      DROP TABLE IF EXISTS usage_daily;
      DROP TABLE IF EXISTS usage_open_allocations;
      DROP TABLE IF EXISTS usage_legacy_open;
      DROP TABLE IF EXISTS usage_user_groups;
      DROP TABLE IF EXISTS usage_containers;`);
  },
  apply(db, event) {
    const totals = new DailyTotals(db);
    fold(db, totals, event);
    totals.write();
  },
  // A rebuild is nearly all usage windows, each adding to one (day, user) row: summed in memory, a
  // batch of a thousand writes a few dozen rows instead of a thousand upserts.
  applyBatch(db, events) {
    const totals = new DailyTotals(db);
    for (const event of events) fold(db, totals, event);
    totals.write();
  },
});

/** One event into the tables; its additions to the daily rows go to `totals`. */
function fold(db: DatabaseSync, totals: DailyTotals, event: UsageEvent): void {
  const sql = statements(db);
  switch (event.type) {
    case 'UserRegistered':
      sql.group.run(event.data.user, event.data.group);
      return;
    case 'GpuAllocated': {
      if (!event.streamId.startsWith(POOL_PREFIX)) return;
      const host = event.streamId.slice(POOL_PREFIX.length);
      const d = event.data;
      const since = Date.parse(d.since);
      // A grant of a slot that was never released: the earlier holder held it until this one.
      settle(db, totals, host, d.slot, since);
      sql.open.run(host, d.slot, d.user ?? '', d.gpuEquivalents, since);
      totals.add(day(since), d.user ?? '', { grants: 1 });
      return;
    }
    case 'GpuReleased': {
      if (!event.streamId.startsWith(POOL_PREFIX)) return;
      settle(
        db,
        totals,
        event.streamId.slice(POOL_PREFIX.length),
        event.data.slot,
        Date.parse(event.data.at),
      );
      return;
    }
    case 'GpuAllocationDenied':
      totals.add(day(Date.parse(event.data.at)), event.data.user, { denials: 1 });
      return;
    case 'ContainerDescribed': {
      const counted = sql.containerOf.get(event.data.containerId) as CountedContainer | undefined;
      // Counted once, on its first description: a later one (a reconciliation) changes nothing.
      if ((counted?.day ?? null) !== null) return;
      const created = Date.parse(event.data.createdAt ?? event.metadata.occurredAt);
      const at = Number.isNaN(created) ? Date.parse(event.metadata.occurredAt) : created;
      const user = counted?.verified ?? event.data.owner.user ?? '';
      sql.countContainer.run(event.data.containerId, counted?.verified ?? null, day(at), user);
      totals.add(day(at), user, { containers: 1 });
      return;
    }
    case 'ContainerCreateAuthorized': {
      // Through the admin socket nobody in particular: the description's claim stands.
      const user = event.data.user;
      if (user === null) return;
      const counted = sql.containerOf.get(event.data.containerId) as CountedContainer | undefined;
      const countedOn = counted?.day ?? null;
      if (countedOn !== null && counted?.counted !== user) {
        // Described first (the watcher won the race): the count moves from the claim to the owner.
        totals.add(countedOn, counted?.counted ?? '', { containers: -1 });
        totals.add(countedOn, user, { containers: 1 });
      }
      sql.countContainer.run(event.data.containerId, user, countedOn, countedOn === null ? null : user);
      return;
    }
    case 'Ds01InfraEventImported':
      applyLegacy(db, totals, event.data);
      return;
    case 'GpuUsageWindowRecorded': {
      const d = event.data;
      const start = Date.parse(d.windowStart);
      const seconds = Math.max(0, (Date.parse(d.windowEnd) - start) / 1000);
      const held = d.holder.user !== null || d.holder.containerId !== null;
      const user = d.holder.user ?? '';
      const energy = d.energyJoules ?? 0;
      if (!held) {
        if (energy > 0) totals.add(day(start), '', { energy_j: energy });
        return;
      }
      const gpuSeconds = seconds * equivalentsOf(d.device.migProfile);
      const activity = gpuActivityOf(d, { signal: 'work' });
      totals.add(day(start), user, {
        energy_j: energy,
        used_gpu_s: activity === null ? 0 : gpuSeconds * activity,
        idle_gpu_s: activity !== null && activity < IDLE_ACTIVITY ? gpuSeconds : 0,
        unknown_gpu_s: activity === null ? gpuSeconds : 0,
      });
      return;
    }
  }
}

/**
 * ds01-infra's history (imported events.jsonl): its grants and releases (`details.container`,
 * `details.gpu`: slots like "0" or "1.2", comma-separated for several), denials and containers.
 * A MIG slot counts 1/7 (ds01-infra's log does not say the profile; its exporter assumed 1g.10gb).
 * A grant never released in the old log is left out: the switch-over records what was still held.
 */
function applyLegacy(
  db: DatabaseSync,
  totals: DailyTotals,
  d: { timestamp: string; eventType: string; user: string | null; details: Record<string, unknown> },
): void {
  const sql = statements(db);
  const at = Date.parse(d.timestamp);
  const user = d.user ?? '';
  const container = typeof d.details['container'] === 'string' ? d.details['container'] : '';
  const slots =
    typeof d.details['gpu'] === 'string'
      ? d.details['gpu']
          .split(',')
          .map((g) => g.trim())
          .filter(Boolean)
      : [];
  switch (d.eventType) {
    case 'gpu.allocated':
      for (const slot of slots) {
        sql.legacyOpen.run(container, slot, user, slot.includes('.') ? 1 / 7 : 1, at);
        totals.add(day(at), user, { grants: 1 });
      }
      return;
    case 'gpu.released': {
      const open = (
        slots.length
          ? slots.map((slot) => sql.legacyFind.get(container, slot))
          : sql.legacyFindAll.all(container)
      ) as ({ slot: string; user: string; gpu_eq: number; since_ms: number } | undefined)[];
      for (const o of open) {
        if (!o) continue;
        sql.legacyClose.run(container, o.slot);
        for (const part of splitByDay(o.since_ms, at))
          totals.add(part.day, o.user, { allocated_gpu_s: part.seconds * o.gpu_eq });
      }
      return;
    }
    case 'gpu.rejected':
      totals.add(day(at), user, { denials: 1 });
      return;
    case 'container.created':
      totals.add(day(at), user, { containers: 1 });
      return;
  }
}

/** A full GPU is 1, a MIG slice its compute slices / 7; a profile DS01 cannot read counts 0 (as ds01-infra). */
function equivalentsOf(migProfile: string | null): number {
  if (migProfile === null) return 1;
  let equivalents = equivalentsByProfile.get(migProfile);
  if (equivalents === undefined) {
    try {
      equivalents = gpuEquivalentsOf(migProfile);
    } catch {
      equivalents = 0;
    }
    equivalentsByProfile.set(migProfile, equivalents);
  }
  return equivalents;
}

/** A lab has a handful of profiles and every usage window names one: parsed once each. */
const equivalentsByProfile = new Map<string, number>();

type Counters = Partial<
  Record<
    | 'allocated_gpu_s'
    | 'used_gpu_s'
    | 'idle_gpu_s'
    | 'unknown_gpu_s'
    | 'energy_j'
    | 'containers'
    | 'grants'
    | 'denials',
    number
  >
>;

type Counter = keyof Required<Counters>;
const COUNTERS: readonly Counter[] = [
  'allocated_gpu_s',
  'used_gpu_s',
  'idle_gpu_s',
  'unknown_gpu_s',
  'energy_j',
  'containers',
  'grants',
  'denials',
];
type DailyRow = { day: string; user: string; grp: string } & Record<Counter, number>;

/**
 * The additions of a batch to usage_daily, summed in memory and written once per row. A row is read
 * when the batch first touches it and each addition is applied to it in the same order as one
 * upsert per addition would (`x = x + a`, then `+ b`): the floating-point sums come out bit for bit
 * the same however the log is cut into batches, so a rebuild equals the live state exactly. A new
 * row takes the user's group at its first addition, as the upsert did.
 */
class DailyTotals {
  readonly #db: DatabaseSync;
  readonly #rows = new Map<string, DailyRow>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  add(day: string, user: string, c: Counters): void {
    const key = `${day} ${user}`;
    let row = this.#rows.get(key);
    if (!row) {
      const sql = statements(this.#db);
      const stored = sql.daily.get(day, user) as DailyRow | undefined;
      row = stored
        ? { ...stored }
        : {
            day,
            user,
            grp: (sql.groupOf.get(user) as { grp: string } | undefined)?.grp ?? '',
            allocated_gpu_s: 0,
            used_gpu_s: 0,
            idle_gpu_s: 0,
            unknown_gpu_s: 0,
            energy_j: 0,
            containers: 0,
            grants: 0,
            denials: 0,
          };
      this.#rows.set(key, row);
    }
    for (const counter of COUNTERS) row[counter] += c[counter] ?? 0;
  }

  write(): void {
    const { put } = statements(this.#db);
    for (const r of this.#rows.values()) {
      put.run(
        r.day,
        r.user,
        r.grp,
        r.allocated_gpu_s,
        r.used_gpu_s,
        r.idle_gpu_s,
        r.unknown_gpu_s,
        r.energy_j,
        r.containers,
        r.grants,
        r.denials,
      );
    }
    this.#rows.clear();
  }
}

/** A container of usage_containers: its verified owner, the day it counts on and whom it counts for. */
interface CountedContainer {
  verified: string | null;
  day: string | null;
  counted: string | null;
}

/** Closes the open allocation of a slot at `until`: its GPU-seconds go to the days it spanned. */
function settle(db: DatabaseSync, totals: DailyTotals, host: string, slot: string, until: number): void {
  const sql = statements(db);
  const open = sql.findOpen.get(host, slot) as { user: string; gpu_eq: number; since_ms: number } | undefined;
  if (!open) return;
  sql.close.run(host, slot);
  for (const part of splitByDay(open.since_ms, until)) {
    totals.add(part.day, open.user, { allocated_gpu_s: part.seconds * open.gpu_eq });
  }
}

/** [from, until) cut at UTC midnights: the seconds of each day it touches. */
export function splitByDay(from: number, until: number): { day: string; seconds: number }[] {
  const parts: { day: string; seconds: number }[] = [];
  for (let start = from; start < until; ) {
    const end = Math.min(until, (Math.floor(start / DAY_MS) + 1) * DAY_MS);
    parts.push({ day: day(start), seconds: (end - start) / 1000 });
    start = end;
  }
  return parts;
}

/** The last day asked for: consecutive events nearly always fall on the same day. */
let lastDay = { index: Number.NaN, text: '' };

function day(ms: number): string {
  const index = Math.floor(ms / DAY_MS);
  if (index !== lastDay.index) lastDay = { index, text: new Date(ms).toISOString().slice(0, 10) };
  return lastDay.text;
}

const statements = preparedOnce((db) => ({
  group: db.prepare(
    'INSERT INTO usage_user_groups (user, grp) VALUES (?, ?) ON CONFLICT (user) DO UPDATE SET grp = excluded.grp',
  ),
  daily: db.prepare(
    `SELECT day, user, grp, allocated_gpu_s, used_gpu_s, idle_gpu_s, unknown_gpu_s, energy_j, containers, grants,
       denials FROM usage_daily WHERE day = ? AND user = ?`,
  ),
  groupOf: db.prepare('SELECT grp FROM usage_user_groups WHERE user = ?'),
  put: db.prepare(
    `INSERT INTO usage_daily (day, user, grp, allocated_gpu_s, used_gpu_s, idle_gpu_s, unknown_gpu_s, energy_j,
       containers, grants, denials)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (day, user) DO UPDATE SET
       allocated_gpu_s = excluded.allocated_gpu_s,
       used_gpu_s = excluded.used_gpu_s,
       idle_gpu_s = excluded.idle_gpu_s,
       unknown_gpu_s = excluded.unknown_gpu_s,
       energy_j = excluded.energy_j,
       containers = excluded.containers,
       grants = excluded.grants,
       denials = excluded.denials`,
  ),
  open: db.prepare(
    `INSERT INTO usage_open_allocations (host, slot, user, gpu_eq, since_ms) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (host, slot) DO UPDATE SET user = excluded.user, gpu_eq = excluded.gpu_eq, since_ms = excluded.since_ms`,
  ),
  findOpen: db.prepare(
    'SELECT user, gpu_eq, since_ms FROM usage_open_allocations WHERE host = ? AND slot = ?',
  ),
  close: db.prepare('DELETE FROM usage_open_allocations WHERE host = ? AND slot = ?'),
  legacyOpen: db.prepare(
    `INSERT INTO usage_legacy_open (container, slot, user, gpu_eq, since_ms) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (container, slot) DO UPDATE SET user = excluded.user, gpu_eq = excluded.gpu_eq, since_ms = excluded.since_ms`,
  ),
  legacyFind: db.prepare(
    'SELECT slot, user, gpu_eq, since_ms FROM usage_legacy_open WHERE container = ? AND slot = ?',
  ),
  legacyFindAll: db.prepare('SELECT slot, user, gpu_eq, since_ms FROM usage_legacy_open WHERE container = ?'),
  containerOf: db.prepare('SELECT verified, day, counted FROM usage_containers WHERE container_id = ?'),
  countContainer: db.prepare(
    `INSERT INTO usage_containers (container_id, verified, day, counted) VALUES (?, ?, ?, ?)
     ON CONFLICT (container_id) DO UPDATE SET verified = excluded.verified, day = excluded.day,
       counted = excluded.counted`,
  ),
  legacyClose: db.prepare('DELETE FROM usage_legacy_open WHERE container = ? AND slot = ?'),
}));
