import { LIFECYCLE_ACTIONS, type ReadModel, usageReport } from '@ds01/projections';
import { z } from 'zod';

/**
 * Everything the exporter serves, read from the read models in one go (synchronous SQL on the
 * read-only connection), so the registry is filled from one consistent moment and a scrape only
 * serialises it.
 */
export interface MetricsSnapshot {
  allocations: {
    slot: string;
    profile: string;
    gpuEquivalents: number;
    user: string;
    container: string;
    interface: string;
  }[];
  containers: { status: 'running' | 'stopped'; interface: string; count: number }[];
  idleContainers: number;
  userContainers: { user: string; count: number }[];
  users: { user: string; group: string }[];
  unmanaged: { container: string; user: string; gpuCount: string; accessType: string; running: boolean }[];
  gpuSlots: { gpu: number; slot: string; gpuUuid: string }[];
  migSlots: { gpu: number; slot: string; migUuid: string; gpuInstanceId: number | null }[];
  events24h: { type: string; count: number }[];
  eventTotals: { type: string; count: number }[];
  lifecycle: { action: string; count: number }[];
  usage: {
    user: string;
    group: string;
    allocatedSeconds: number;
    usedSeconds: number;
    idleSeconds: number;
    energyJoules: number;
    grants: number;
    denials: number;
  }[];
  userCpuSeconds: { user: string; group: string; seconds: number }[];
  userMemoryBytes: { user: string; group: string; bytes: number }[];
  gpuHealth: { probeFailing: number; probeFailures: number; gpusLost: number; migLayoutChanges: number };
  hostGpuProcesses: { user: string; count: number }[];
}

/** A container's last memory reading counts as current this long after its window ended. */
const MEMORY_FRESH_MS = 15 * 60_000;

const Allocation = z.object({
  slot: z.string(),
  profile: z.string(),
  gpu_equivalents: z.number(),
  user: z.string().nullable(),
  name: z.string().nullable(),
  container_id: z.string().nullable(),
  interface: z.string().nullable(),
});
const ContainerCount = z.object({ status: z.string(), interface: z.string(), n: z.number() });
const Count = z.object({ n: z.number() });
const UserCount = z.object({ user: z.string(), n: z.number() });
const UserGroup = z.object({ user: z.string(), group: z.string() });
const Unmanaged = z.object({
  name: z.string(),
  owner: z.string().nullable(),
  gpu: z.string(),
  status: z.string(),
});
const Slot = z.object({
  gpu: z.number(),
  slot: z.string(),
  gpu_uuid: z.string(),
  mig: z.number(),
  mig_uuid: z.string().nullable(),
  gpu_i_id: z.number().nullable(),
});
const TypeCount = z.object({ type: z.string(), n: z.number() });
const ActionCount = z.object({ action: z.string(), n: z.number() });
const UserValue = z.object({ user: z.string(), value: z.number() });
const Health = z.object({
  probe_failing: z.number(),
  probe_failures: z.number(),
  gpus_lost: z.number(),
  mig_changes: z.number(),
});

export function readSnapshot(readModel: ReadModel, host: string, now: Date): MetricsSnapshot {
  const q = readModel.query.bind(readModel);
  const groups = new Map(
    q(UserGroup, 'SELECT user, "group" AS "group" FROM users WHERE departed_at IS NULL').map((u) => [
      u.user,
      u.group,
    ]),
  );
  const groupOf = (user: string) => groups.get(user) ?? 'unknown';
  const userLabel = (user: string | null) => (user === null || user === '' ? 'unknown' : user);

  const allocations = q(
    Allocation,
    `SELECT h.slot, h.profile, h.gpu_equivalents, h.user, c.name, h.container_id, c.interface
       FROM gpu_holdings h LEFT JOIN containers c ON c.container_id = h.container_id
      WHERE h.host = ? ORDER BY h.slot`,
    host,
  ).map((a) => ({
    slot: a.slot,
    profile: a.profile,
    gpuEquivalents: a.gpu_equivalents,
    user: userLabel(a.user),
    container: a.name ?? a.container_id?.slice(0, 12) ?? 'unknown',
    interface: a.interface ?? 'unknown',
  }));

  const containers = q(
    ContainerCount,
    `SELECT CASE WHEN status IN ('running', 'paused') THEN 'running' ELSE 'stopped' END AS status,
            coalesce(interface, 'unknown') AS interface, count(*) AS n
       FROM containers WHERE removed_at IS NULL AND infrastructure = 0 GROUP BY 1, 2 ORDER BY 1, 2`,
  ).map((c) => ({ status: c.status as 'running' | 'stopped', interface: c.interface, count: c.n }));

  const [idle] = q(
    Count,
    "SELECT count(*) AS n FROM containers WHERE removed_at IS NULL AND status = 'running' AND idle_since IS NOT NULL",
  );

  const userContainers = q(
    UserCount,
    `SELECT owner AS user, count(*) AS n FROM containers
      WHERE removed_at IS NULL AND infrastructure = 0 AND owner IS NOT NULL GROUP BY owner ORDER BY owner`,
  ).map((u) => ({ user: u.user, count: u.n }));

  const unmanaged = q(
    Unmanaged,
    `SELECT name, owner, gpu, status FROM containers
      WHERE unmanaged = 1 AND infrastructure = 0 AND removed_at IS NULL AND gpu <> 'none' ORDER BY name`,
  ).map((c) => ({
    container: c.name,
    user: userLabel(c.owner),
    ...gpuAccessLabels(c.gpu),
    running: c.status === 'running' || c.status === 'paused',
  }));

  const slots = q(
    Slot,
    'SELECT gpu, slot, gpu_uuid, mig, mig_uuid, gpu_i_id FROM metrics_gpu_slots WHERE host = ? ORDER BY gpu, slot',
    host,
  );

  const dayAgo = now.getTime() - 86_400_000;
  const events24h = q(
    TypeCount,
    'SELECT type, sum(n) AS n FROM metrics_event_minutes WHERE minute_ms >= ? GROUP BY type ORDER BY type',
    dayAgo,
  ).map((e) => ({ type: e.type, count: e.n }));
  const eventTotals = q(TypeCount, 'SELECT type, n FROM metrics_event_totals ORDER BY type').map((e) => ({
    type: e.type,
    count: e.n,
  }));
  const lifecycleCounts = new Map(
    q(ActionCount, 'SELECT action, n FROM metrics_lifecycle').map((a) => [a.action, a.n]),
  );

  const today = now.toISOString().slice(0, 10);
  const usage = usageReport(readModel, { fromDay: null, toDay: today, by: 'user', intensity: [], now }).map(
    (r) => ({
      user: userLabel(r.key),
      group: r.key === '' ? 'unknown' : groupOf(r.key),
      allocatedSeconds: r.gpuHoursAllocated * 3600,
      usedSeconds: r.gpuHoursUsed * 3600,
      idleSeconds: r.wasteGpuHours * 3600,
      energyJoules: r.energyKwh * 3.6e6,
      grants: r.grants,
      denials: r.denials,
    }),
  );

  const userCpuSeconds = q(UserValue, 'SELECT user, cpu_s AS value FROM metrics_user_cpu ORDER BY user').map(
    (u) => ({ user: userLabel(u.user), group: groupOf(u.user), seconds: u.value }),
  );
  const userMemoryBytes = q(
    UserValue,
    `SELECT user, sum(memory_bytes) AS value FROM metrics_container_memory
      WHERE window_end_ms >= ? GROUP BY user ORDER BY user`,
    now.getTime() - MEMORY_FRESH_MS,
  ).map((u) => ({ user: userLabel(u.user), group: groupOf(u.user), bytes: u.value }));

  const [health] = q(
    Health,
    'SELECT probe_failing, probe_failures, gpus_lost, mig_changes FROM metrics_gpu_health WHERE host = ?',
    host,
  );
  const hostGpuProcesses = q(UserCount, 'SELECT user, n FROM metrics_host_gpu_processes ORDER BY user').map(
    (p) => ({ user: userLabel(p.user), count: p.n }),
  );

  return {
    allocations,
    containers,
    idleContainers: idle?.n ?? 0,
    userContainers,
    users: [...groups].map(([user, group]) => ({ user, group })),
    unmanaged,
    gpuSlots: slots
      .filter((s) => s.mig === 0)
      .map((s) => ({ gpu: s.gpu, slot: s.slot, gpuUuid: s.gpu_uuid })),
    migSlots: slots
      .filter((s) => s.mig === 1)
      .map((s) => ({ gpu: s.gpu, slot: s.slot, migUuid: s.mig_uuid ?? '', gpuInstanceId: s.gpu_i_id })),
    events24h,
    eventTotals,
    lifecycle: LIFECYCLE_ACTIONS.map((action) => ({ action, count: lifecycleCounts.get(action) ?? 0 })),
    usage,
    userCpuSeconds,
    userMemoryBytes,
    gpuHealth: {
      probeFailing: health?.probe_failing ?? 0,
      probeFailures: health?.probe_failures ?? 0,
      gpusLost: health?.gpus_lost ?? 0,
      migLayoutChanges: health?.mig_changes ?? 0,
    },
    hostGpuProcesses,
  };
}

/** ds01-infra's gpu_count ("ALL" or n) and access_type from the containers view's GPU summary. */
function gpuAccessLabels(gpu: string): { gpuCount: string; accessType: string } {
  if (gpu === 'all') return { gpuCount: 'ALL', accessType: 'all' };
  if (gpu === 'unknown') return { gpuCount: '0', accessType: 'unknown' };
  if (/^\d+$/.test(gpu)) return { gpuCount: gpu, accessType: 'count' };
  return { gpuCount: String(gpu.split(',').length), accessType: 'specific' };
}
