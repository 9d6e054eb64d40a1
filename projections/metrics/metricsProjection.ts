import type { DatabaseSync } from 'node:sqlite';
import { type Ds01Event, eventCatalog } from '@ds01/domain';
import { defineProjection, preparedOnce } from '../runner/projection.ts';

const INVENTORY_PREFIX = 'gpu-inventory-';

/** How long event-count buckets are kept: a day and an hour, so "the last 24 h" is always whole. */
const KEEP_MINUTES_MS = 25 * 3_600_000;

/**
 * ds01-infra's lifecycle actions (its exporter's LIFECYCLE_EVENT_MAP): always all served, 0 by default.
 * DS01's own events and imported ds01-infra lines both count.
 */
export const LIFECYCLE_ACTIONS = [
  'idle_kill',
  'runtime_kill',
  'oom_kill',
  'gpu_warning',
  'memory_warning',
  'container_warning',
  'bare_metal_warning',
] as const;

const LEGACY_LIFECYCLE: Record<string, (typeof LIFECYCLE_ACTIONS)[number]> = {
  'maintenance.idle_kill': 'idle_kill',
  'maintenance.runtime_kill': 'runtime_kill',
  'resource.oom_kill': 'oom_kill',
  'alert.gpu_warning': 'gpu_warning',
  'alert.memory_warning': 'memory_warning',
  'alert.container_warning': 'container_warning',
  'bare_metal.warning': 'bare_metal_warning',
};

/**
 * What the exporter serves that no other read model keeps: event counts (all time, and per minute
 * for the last 24 h), lifecycle actions, the GPU inventory with MIG instance ids (for the DCGM join),
 * GPU and probe health, host GPU processes, and per-user CPU and memory from the container windows.
 * The exporter reads these on its refresh timer, never on a scrape.
 */
export const metricsProjection = defineProjection({
  name: 'metrics',
  version: 1,
  description:
    'what the Prometheus exporter serves: event counts, lifecycle actions, GPU health, CPU and memory by user',
  eventTypes: eventCatalog.types as readonly Ds01Event['type'][],
  setup(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS metrics_event_totals (type TEXT PRIMARY KEY, n INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS metrics_event_minutes (
        minute_ms INTEGER NOT NULL, type TEXT NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (minute_ms, type)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS metrics_lifecycle (action TEXT PRIMARY KEY, n INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS metrics_gpu_slots (
        host TEXT NOT NULL, gpu INTEGER NOT NULL, slot TEXT NOT NULL, gpu_uuid TEXT NOT NULL,
        mig INTEGER NOT NULL, profile TEXT NOT NULL, mig_uuid TEXT, gpu_i_id INTEGER,
        PRIMARY KEY (host, slot)
      );
      CREATE TABLE IF NOT EXISTS metrics_gpu_health (
        host TEXT PRIMARY KEY,
        probe_failing INTEGER NOT NULL DEFAULT 0,
        probe_failures INTEGER NOT NULL DEFAULT 0,
        gpus_lost INTEGER NOT NULL DEFAULT 0,
        mig_changes INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE IF NOT EXISTS metrics_host_gpu_processes (user TEXT PRIMARY KEY, n INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS metrics_user_cpu (user TEXT PRIMARY KEY, cpu_s REAL NOT NULL);
      CREATE TABLE IF NOT EXISTS metrics_container_memory (
        container_id TEXT PRIMARY KEY, user TEXT NOT NULL, window_end_ms INTEGER NOT NULL,
        memory_bytes REAL NOT NULL
      );`);
  },
  reset(db) {
    db.exec(`
      DROP TABLE IF EXISTS metrics_event_totals;
      DROP TABLE IF EXISTS metrics_event_minutes;
      DROP TABLE IF EXISTS metrics_lifecycle;
      DROP TABLE IF EXISTS metrics_gpu_slots;
      DROP TABLE IF EXISTS metrics_gpu_health;
      DROP TABLE IF EXISTS metrics_host_gpu_processes;
      DROP TABLE IF EXISTS metrics_user_cpu;
      DROP TABLE IF EXISTS metrics_container_memory;`);
  },
  apply(db, event) {
    const sql = statements(db);
    const at = Date.parse(event.metadata.occurredAt);
    const minute = Math.floor(at / 60_000) * 60_000;
    sql.countTotal.run(event.type);
    sql.countMinute.run(minute, event.type);
    sql.prune.run(minute - KEEP_MINUTES_MS);
    switch (event.type) {
      case 'ContainerOutOfMemory':
        sql.lifecycle.run('oom_kill');
        return;
      case 'Ds01InfraEventImported': {
        const action = LEGACY_LIFECYCLE[event.data.eventType];
        if (action) sql.lifecycle.run(action);
        return;
      }
      case 'GpuInventoryObserved': {
        const host = hostOf(event);
        sql.clearSlots.run(host);
        for (const gpu of event.data.inventory.gpus) {
          if (!gpu.migEnabled) {
            sql.slot.run(host, gpu.index, String(gpu.index), gpu.uuid, 0, 'full', null, null);
          }
          for (const mig of gpu.migSlots) {
            sql.slot.run(host, gpu.index, mig.slot, gpu.uuid, 1, mig.profile, mig.uuid, mig.gpuInstanceId);
          }
        }
        return;
      }
      case 'GpuProbeFailed':
        health(db, hostOf(event));
        sql.probeFailed.run(hostOf(event));
        return;
      case 'GpuProbeRecovered':
        health(db, hostOf(event));
        sql.probeRecovered.run(hostOf(event));
        return;
      case 'GpuLost':
        health(db, hostOf(event));
        sql.gpuLost.run(hostOf(event));
        return;
      case 'MigLayoutChanged':
        health(db, hostOf(event));
        sql.migChanged.run(hostOf(event));
        return;
      case 'HostGpuProcessDetected':
        sql.hostProcess.run(event.data.user ?? '');
        return;
      case 'UnattributedGpuProcess':
        sql.hostProcess.run('');
        return;
      case 'ContainerResourceWindowRecorded': {
        const d = event.data;
        const user = d.user ?? '';
        sql.cpu.run(user, d.cpuSeconds);
        sql.memory.run(d.containerId, user, Date.parse(d.windowEnd), d.memoryMaxBytes);
        return;
      }
      case 'ContainerRemoved':
        sql.forgetMemory.run(event.data.containerId);
        return;
    }
  },
});

/** The host of a gpu-inventory-<host> stream's event (the writer's host otherwise). */
function hostOf(event: { streamId: string; metadata: { host: string } }): string {
  return event.streamId.startsWith(INVENTORY_PREFIX)
    ? event.streamId.slice(INVENTORY_PREFIX.length)
    : event.metadata.host;
}

function health(db: DatabaseSync, host: string): void {
  statements(db).health.run(host);
}

const statements = preparedOnce((db) => ({
  countTotal: db.prepare(
    'INSERT INTO metrics_event_totals (type, n) VALUES (?, 1) ON CONFLICT (type) DO UPDATE SET n = n + 1',
  ),
  countMinute: db.prepare(
    `INSERT INTO metrics_event_minutes (minute_ms, type, n) VALUES (?, ?, 1)
     ON CONFLICT (minute_ms, type) DO UPDATE SET n = n + 1`,
  ),
  prune: db.prepare('DELETE FROM metrics_event_minutes WHERE minute_ms < ?'),
  lifecycle: db.prepare(
    'INSERT INTO metrics_lifecycle (action, n) VALUES (?, 1) ON CONFLICT (action) DO UPDATE SET n = n + 1',
  ),
  clearSlots: db.prepare('DELETE FROM metrics_gpu_slots WHERE host = ?'),
  slot: db.prepare(
    `INSERT INTO metrics_gpu_slots (host, gpu, slot, gpu_uuid, mig, profile, mig_uuid, gpu_i_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (host, slot) DO NOTHING`,
  ),
  health: db.prepare('INSERT INTO metrics_gpu_health (host) VALUES (?) ON CONFLICT (host) DO NOTHING'),
  probeFailed: db.prepare(
    'UPDATE metrics_gpu_health SET probe_failing = 1, probe_failures = probe_failures + 1 WHERE host = ?',
  ),
  probeRecovered: db.prepare('UPDATE metrics_gpu_health SET probe_failing = 0 WHERE host = ?'),
  gpuLost: db.prepare('UPDATE metrics_gpu_health SET gpus_lost = gpus_lost + 1 WHERE host = ?'),
  migChanged: db.prepare('UPDATE metrics_gpu_health SET mig_changes = mig_changes + 1 WHERE host = ?'),
  hostProcess: db.prepare(
    'INSERT INTO metrics_host_gpu_processes (user, n) VALUES (?, 1) ON CONFLICT (user) DO UPDATE SET n = n + 1',
  ),
  cpu: db.prepare(
    'INSERT INTO metrics_user_cpu (user, cpu_s) VALUES (?, ?) ON CONFLICT (user) DO UPDATE SET cpu_s = cpu_s + excluded.cpu_s',
  ),
  memory: db.prepare(
    `INSERT INTO metrics_container_memory (container_id, user, window_end_ms, memory_bytes) VALUES (?, ?, ?, ?)
     ON CONFLICT (container_id) DO UPDATE SET user = excluded.user, window_end_ms = excluded.window_end_ms,
       memory_bytes = excluded.memory_bytes WHERE excluded.window_end_ms >= window_end_ms`,
  ),
  forgetMemory: db.prepare('DELETE FROM metrics_container_memory WHERE container_id = ?'),
}));
