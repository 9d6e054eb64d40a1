import { defineProjection, preparedOnce } from '../runner/projection.ts';

const POOL_PREFIX = 'gpu-pool-';

/**
 * Who holds which GPU, per host pool, and who held what when:
 *  - gpu_pool_slots: every device of the pool as last recorded (GpuPoolInventoryRecorded);
 *  - gpu_holdings: the slots held now, with the container's hold when it is stopped;
 *  - gpu_holding_history: one row per grant, closed by its release (`ds01 gpu who --at`);
 *  - gpu_reconciliation_problems: what the switch-over from ds01-infra found for a person to look at.
 * A grant for a create not answered yet holds its slots with no container until GpuGrantBound names it.
 * Times are the events' own (when a slot was granted, released), never the clock of the projection.
 */
export const allocationProjection = defineProjection({
  name: 'allocation',
  version: 2,
  description: 'GPU allocation: every slot of each pool, who holds it (and held it when), holds after stop',
  eventTypes: [
    'GpuPoolInventoryRecorded',
    'GpuAllocated',
    'GpuGrantBound',
    'GpuReleased',
    'GpuHoldStarted',
    'GpuHoldEnded',
    'GpuHoldExpired',
    'GpuReconciliationProblem',
  ],
  setup(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS gpu_pool_slots (
        host            TEXT NOT NULL,
        slot            TEXT NOT NULL,
        gpu_index       INTEGER NOT NULL,
        profile         TEXT NOT NULL,
        gpu_equivalents REAL NOT NULL,
        device_id       TEXT NOT NULL,
        PRIMARY KEY (host, slot)
      );
      CREATE TABLE IF NOT EXISTS gpu_holdings (
        host             TEXT NOT NULL,
        slot             TEXT NOT NULL,
        gpu_index        INTEGER NOT NULL,
        profile          TEXT NOT NULL,
        gpu_equivalents  REAL NOT NULL,
        device_id        TEXT NOT NULL,
        user             TEXT,
        container_id     TEXT,
        request_id       TEXT NOT NULL,
        observation      TEXT NOT NULL,
        since            TEXT NOT NULL,
        hold_stopped_at  TEXT,
        hold_expires_at  TEXT,
        PRIMARY KEY (host, slot)
      );
      CREATE INDEX IF NOT EXISTS gpu_holdings_container ON gpu_holdings (container_id);
      CREATE INDEX IF NOT EXISTS gpu_holdings_user ON gpu_holdings (user);
      CREATE TABLE IF NOT EXISTS gpu_holding_history (
        position        INTEGER PRIMARY KEY,
        host            TEXT NOT NULL,
        slot            TEXT NOT NULL,
        profile         TEXT NOT NULL,
        gpu_equivalents REAL NOT NULL,
        user            TEXT,
        container_id    TEXT,
        request_id      TEXT NOT NULL,
        since           TEXT NOT NULL,
        until           TEXT,
        release_reason  TEXT
      );
      CREATE INDEX IF NOT EXISTS gpu_holding_history_open ON gpu_holding_history (host, slot, until);
      CREATE INDEX IF NOT EXISTS gpu_holding_history_since ON gpu_holding_history (since);
      CREATE TABLE IF NOT EXISTS gpu_reconciliation_problems (
        position       INTEGER PRIMARY KEY,
        host           TEXT NOT NULL,
        container_id   TEXT NOT NULL,
        container_name TEXT NOT NULL,
        user           TEXT,
        problem        TEXT NOT NULL,
        device_id      TEXT,
        slot           TEXT,
        detail         TEXT NOT NULL,
        at             TEXT NOT NULL
      );`);
  },
  reset(db) {
    db.exec(`
      DROP TABLE IF EXISTS gpu_pool_slots;
      DROP TABLE IF EXISTS gpu_holdings;
      DROP TABLE IF EXISTS gpu_holding_history;
      DROP TABLE IF EXISTS gpu_reconciliation_problems;`);
  },
  apply(db, event) {
    if (!event.streamId.startsWith(POOL_PREFIX)) return;
    const host = event.streamId.slice(POOL_PREFIX.length);
    const sql = statements(db);
    switch (event.type) {
      case 'GpuPoolInventoryRecorded':
        sql.clearPool.run(host);
        for (const s of event.data.slots) {
          sql.addPoolSlot.run(host, s.slot, s.gpuIndex, s.profile, s.gpuEquivalents, s.deviceId);
        }
        return;
      case 'GpuAllocated': {
        const d = event.data;
        const since = instant(d.since);
        sql.hold.run(
          host,
          d.slot,
          d.gpuIndex,
          d.profile,
          d.gpuEquivalents,
          d.deviceId,
          d.user,
          d.containerId,
          d.requestId,
          d.observation,
          since,
        );
        sql.open.run(
          event.position,
          host,
          d.slot,
          d.profile,
          d.gpuEquivalents,
          d.user,
          d.containerId,
          d.requestId,
          since,
        );
        return;
      }
      case 'GpuGrantBound':
        sql.bind.run(event.data.containerId, host, event.data.requestId);
        sql.bindHistory.run(event.data.containerId, host, event.data.requestId);
        return;
      case 'GpuReleased':
        sql.release.run(host, event.data.slot);
        sql.close.run(instant(event.data.at), event.data.reason, host, event.data.slot);
        return;
      case 'GpuHoldStarted': {
        const { containerId, stoppedAt, expiresAt } = event.data;
        sql.setHold.run(
          instant(stoppedAt),
          expiresAt === null ? null : instant(expiresAt),
          host,
          containerId,
        );
        return;
      }
      case 'GpuHoldEnded':
      case 'GpuHoldExpired':
        sql.setHold.run(null, null, host, event.data.containerId);
        return;
      case 'GpuReconciliationProblem': {
        const d = event.data;
        sql.problem.run(
          event.position,
          host,
          d.containerId,
          d.containerName,
          d.user,
          d.problem,
          d.deviceId,
          d.slot,
          d.detail,
          instant(d.at),
        );
        return;
      }
    }
  },
});

/** One spelling of every instant (toISOString's), so that text comparison is time comparison. */
function instant(iso: string): string {
  return new Date(iso).toISOString();
}

const statements = preparedOnce((db) => ({
  clearPool: db.prepare('DELETE FROM gpu_pool_slots WHERE host = ?'),
  addPoolSlot: db.prepare(
    'INSERT INTO gpu_pool_slots (host, slot, gpu_index, profile, gpu_equivalents, device_id) VALUES (?, ?, ?, ?, ?, ?)',
  ),
  hold: db.prepare(
    `INSERT INTO gpu_holdings (host, slot, gpu_index, profile, gpu_equivalents, device_id, user, container_id,
       request_id, observation, since, hold_stopped_at, hold_expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)`,
  ),
  release: db.prepare('DELETE FROM gpu_holdings WHERE host = ? AND slot = ?'),
  bind: db.prepare(
    'UPDATE gpu_holdings SET container_id = ? WHERE host = ? AND request_id = ? AND container_id IS NULL',
  ),
  bindHistory: db.prepare(
    'UPDATE gpu_holding_history SET container_id = ? WHERE host = ? AND request_id = ? AND until IS NULL AND container_id IS NULL',
  ),
  setHold: db.prepare(
    'UPDATE gpu_holdings SET hold_stopped_at = ?, hold_expires_at = ? WHERE host = ? AND container_id = ?',
  ),
  open: db.prepare(
    `INSERT INTO gpu_holding_history (position, host, slot, profile, gpu_equivalents, user, container_id, request_id, since)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ),
  close: db.prepare(
    'UPDATE gpu_holding_history SET until = ?, release_reason = ? WHERE host = ? AND slot = ? AND until IS NULL',
  ),
  problem: db.prepare(
    `INSERT INTO gpu_reconciliation_problems (position, host, container_id, container_name, user, problem, device_id, slot, detail, at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ),
}));
