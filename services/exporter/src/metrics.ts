import { Counter, Gauge, Registry } from 'prom-client';
import type { MetricsSnapshot } from './snapshot.ts';

/** What the exporter knows besides the read models: the host, DS01's own health, its refreshes. */
export interface RuntimeReadings {
  stateDisk: { total: number; used: number; free: number } | null;
  sshSessions: { user: string; count: number }[] | null;
  projections: { projection: string; lagEvents: number; lagSeconds: number }[];
  services: { service: string; name: string; value: number }[];
}

export const EXPORTER_VERSION = '1.0.0';

/**
 * The registry /metrics serialises. Names and labels of ds01-infra's exporter (formats.md §f) are
 * kept so its recording rules, alerts and dashboards keep working, with their meaning corrected
 * where it was wrong: ds01_events_24h_total counts exactly the last 24 h (it never decayed right),
 * ds01_lifecycle_events_total is a real counter, ds01_unmanaged_gpu_all_access exists. Two names
 * end in _total though they are gauges (ds01_containers_total, ds01_events_24h_total): the lab's
 * rules query them so; DS01's own names follow Prometheus' conventions.
 */
export function createMetrics() {
  const registry = new Registry();
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge<L>({ name, help, labelNames, registers: [registry] });
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });

  const m = {
    exporterInfo: gauge('ds01_exporter_info', 'DS01 exporter information', ['version', 'type']),
    // ds01-infra's names
    gpuAllocated: gauge('ds01_gpu_allocated', 'GPU/MIG slot allocation status (1=allocated)', [
      'gpu_slot',
      'container',
      'user',
      'interface',
      'profile',
    ]),
    gpuEquivalents: gauge(
      'ds01_gpu_equivalents',
      'Fractional GPU-equivalents per allocation (compute-slice fraction; 1.0 = full GPU)',
      ['gpu_slot', 'user', 'interface', 'profile'],
    ),
    containersTotal: gauge(
      'ds01_containers_total',
      "Containers by status and interface (a gauge: the name is ds01-infra's)",
      ['status', 'interface'],
    ),
    userGpusAllocated: gauge('ds01_user_gpus_allocated', 'GPU slots allocated to user', ['user']),
    userGpuEquivalents: gauge('ds01_user_gpu_equivalents', 'GPU-equivalents allocated to user', ['user']),
    userContainersCount: gauge('ds01_user_containers_count', 'Containers of the user (not removed)', [
      'user',
    ]),
    events24h: gauge('ds01_events_24h_total', 'Events in the last 24 hours by type (exact; a gauge)', [
      'event_type',
    ]),
    lifecycleEvents: counter(
      'ds01_lifecycle_events_total',
      'Lifecycle enforcement actions since the log began',
      ['action'],
    ),
    sshSessionsActive: gauge('ds01_ssh_sessions_active', 'Logged-in sessions by user (who)', ['user']),
    sshSessionsTotal: gauge('ds01_ssh_sessions_total', 'Logged-in sessions (who)'),
    stateDiskBytes: gauge('ds01_state_disk_bytes', 'Disk of the data dir', ['type']),
    unmanagedContainer: gauge('ds01_unmanaged_gpu_container', 'Unmanaged container with GPU access', [
      'container',
      'user',
      'gpu_count',
      'access_type',
      'running',
    ]),
    unmanagedCount: gauge('ds01_unmanaged_gpu_count', 'Unmanaged containers with GPU access'),
    unmanagedRunning: gauge('ds01_unmanaged_gpu_running', 'Running unmanaged containers with GPU access'),
    unmanagedAllAccess: gauge(
      'ds01_unmanaged_gpu_all_access',
      'Unmanaged containers that can reach every GPU',
    ),
    gpuSlotInfo: gauge('ds01_gpu_slot_info', 'Full GPU slot mapping', [
      'gpu',
      'slot',
      'gpu_uuid',
      'mig_enabled',
    ]),
    migSlotInfo: gauge('ds01_mig_slot_info', 'MIG slot mapping for DCGM metric joins', [
      'gpu',
      'gpu_i_id',
      'slot',
      'mig_uuid',
    ]),
    migMappingStatus: gauge('ds01_mig_mapping_status', 'MIG slot mapping health (1=ok, 0=mismatch)', [
      'mapped',
      'unmapped',
    ]),
    userGroupInfo: gauge('ds01_user_group_info', 'User to group mapping', ['user', 'group']),
    groupMembersTotal: gauge(
      'ds01_group_members_total',
      "Members of each group (a gauge: the name is ds01-infra's)",
      ['group'],
    ),
    userCpuSeconds: counter('ds01_user_cpu_usage_seconds_total', "CPU seconds of the user's containers", [
      'user',
      'group',
    ]),
    userMemoryBytes: gauge('ds01_user_memory_current_bytes', "Memory of the user's containers now", [
      'user',
      'group',
    ]),
    // DS01's own
    gpuAllocatedSeconds: counter('ds01_gpu_allocated_seconds_total', 'GPU-equivalent seconds held', [
      'user',
      'group',
    ]),
    gpuUsedSeconds: counter(
      'ds01_gpu_used_seconds_total',
      'GPU-equivalent seconds weighted by activity (SM active, else GR engine active, else utilisation)',
      ['user', 'group'],
    ),
    gpuIdleSeconds: counter('ds01_gpu_idle_seconds_total', 'GPU-equivalent seconds held while idle (waste)', [
      'user',
      'group',
    ]),
    gpuEnergyJoules: counter('ds01_gpu_energy_joules_total', 'Energy of the GPUs the user held', [
      'user',
      'group',
    ]),
    grants: counter('ds01_gpu_allocation_grants_total', 'GPU slots granted', ['user', 'group']),
    denials: counter('ds01_gpu_allocation_denials_total', 'GPU requests denied', ['user', 'group']),
    eventsTotal: counter('ds01_events_total', 'Events on the log by type', ['event_type']),
    containersIdle: gauge('ds01_containers_idle', 'Running containers DS01 found idle'),
    hostGpuProcesses: counter(
      'ds01_host_gpu_processes_detected_total',
      'GPU processes found on the host outside containers (user "unknown": unattributed)',
      ['user'],
    ),
    gpuProbeFailing: gauge('ds01_gpu_probe_failing', '1 while probing the GPUs fails'),
    gpuProbeFailures: counter('ds01_gpu_probe_failures_total', 'Times probing the GPUs started failing'),
    gpusLost: counter('ds01_gpu_lost_total', 'GPUs that disappeared (fell off the bus, removed)'),
    migLayoutChanges: counter('ds01_mig_layout_changes_total', 'MIG layouts changed'),
    gpus: gauge('ds01_gpus', 'GPUs in the inventory'),
    projectionLagEvents: gauge('ds01_projection_lag_events', 'Log positions a read model is behind', [
      'projection',
    ]),
    projectionLagSeconds: gauge(
      'ds01_projection_lag_seconds',
      'Age of the oldest event a read model has not applied (0: up to date)',
      ['projection'],
    ),
    serviceHealth: gauge('ds01_service_health', "A service's own health reading", ['service', 'reading']),
    dockerWatcherConnected: gauge(
      'ds01_docker_watcher_connected',
      '1 while the docker watcher follows dockerd',
    ),
    refreshSeconds: gauge(
      'ds01_exporter_refresh_seconds',
      'How long the last refresh from the read models took',
    ),
    refreshFailures: counter(
      'ds01_exporter_refresh_failures_total',
      'Refreshes that could not read the read models',
    ),
    lastRefresh: gauge(
      'ds01_exporter_last_refresh_timestamp_seconds',
      'When the metrics were last refreshed',
    ),
  };
  return { registry, m };
}

export type ExporterMetrics = ReturnType<typeof createMetrics>;

/**
 * Replaces every value with the snapshot's, synchronously: a scrape (on the same event loop) sees
 * the whole old set or the whole new one. Counters are set by reset + inc (their source is a total
 * the log keeps, which only grows).
 */
export function applySnapshot(
  { m }: ExporterMetrics,
  s: MetricsSnapshot,
  runtime: RuntimeReadings,
  now: Date,
): void {
  for (const metric of Object.values(m)) {
    if (metric !== m.refreshFailures) metric.reset();
  }
  m.exporterInfo.set({ version: EXPORTER_VERSION, type: 'ds01' }, 1);

  const perUser = new Map<string, { slots: number; eq: number }>();
  for (const a of s.allocations) {
    m.gpuAllocated.set(
      { gpu_slot: a.slot, container: a.container, user: a.user, interface: a.interface, profile: a.profile },
      1,
    );
    m.gpuEquivalents.set(
      { gpu_slot: a.slot, user: a.user, interface: a.interface, profile: a.profile },
      a.gpuEquivalents,
    );
    const u = perUser.get(a.user) ?? { slots: 0, eq: 0 };
    u.slots += 1;
    u.eq += a.gpuEquivalents;
    perUser.set(a.user, u);
  }
  for (const [user, u] of perUser) {
    m.userGpusAllocated.set({ user }, u.slots);
    m.userGpuEquivalents.set({ user }, u.eq);
  }
  for (const c of s.containers) m.containersTotal.set({ status: c.status, interface: c.interface }, c.count);
  m.containersIdle.set(s.idleContainers);
  for (const u of s.userContainers) m.userContainersCount.set({ user: u.user }, u.count);
  for (const e of s.events24h) m.events24h.set({ event_type: e.type }, e.count);
  for (const e of s.eventTotals) m.eventsTotal.inc({ event_type: e.type }, e.count);
  for (const l of s.lifecycle) m.lifecycleEvents.inc({ action: l.action }, l.count);

  for (const c of s.unmanaged) {
    m.unmanagedContainer.set(
      {
        container: c.container,
        user: c.user,
        gpu_count: c.gpuCount,
        access_type: c.accessType,
        running: String(c.running),
      },
      1,
    );
  }
  m.unmanagedCount.set(s.unmanaged.length);
  m.unmanagedRunning.set(s.unmanaged.filter((c) => c.running).length);
  m.unmanagedAllAccess.set(s.unmanaged.filter((c) => c.accessType === 'all').length);

  for (const g of s.gpuSlots) {
    m.gpuSlotInfo.set({ gpu: String(g.gpu), slot: g.slot, gpu_uuid: g.gpuUuid, mig_enabled: 'false' }, 1);
  }
  const mapped = s.migSlots.filter((x) => x.gpuInstanceId !== null);
  for (const x of mapped) {
    m.migSlotInfo.set(
      { gpu: String(x.gpu), gpu_i_id: String(x.gpuInstanceId), slot: x.slot, mig_uuid: x.migUuid },
      1,
    );
  }
  if (s.migSlots.length > 0) {
    const unmapped = s.migSlots.length - mapped.length;
    m.migMappingStatus.set(
      { mapped: String(mapped.length), unmapped: String(unmapped) },
      unmapped === 0 ? 1 : 0,
    );
  }
  m.gpus.set(new Set([...s.gpuSlots.map((g) => g.gpu), ...s.migSlots.map((x) => x.gpu)]).size);

  const members = new Map<string, number>();
  for (const u of s.users) {
    m.userGroupInfo.set({ user: u.user, group: u.group }, 1);
    members.set(u.group, (members.get(u.group) ?? 0) + 1);
  }
  for (const [group, n] of members) m.groupMembersTotal.set({ group }, n);

  for (const u of s.usage) {
    const labels = { user: u.user, group: u.group };
    m.gpuAllocatedSeconds.inc(labels, u.allocatedSeconds);
    m.gpuUsedSeconds.inc(labels, u.usedSeconds);
    m.gpuIdleSeconds.inc(labels, u.idleSeconds);
    m.gpuEnergyJoules.inc(labels, u.energyJoules);
    m.grants.inc(labels, u.grants);
    m.denials.inc(labels, u.denials);
  }
  for (const u of s.userCpuSeconds) m.userCpuSeconds.inc({ user: u.user, group: u.group }, u.seconds);
  for (const u of s.userMemoryBytes) m.userMemoryBytes.set({ user: u.user, group: u.group }, u.bytes);

  m.gpuProbeFailing.set(s.gpuHealth.probeFailing);
  m.gpuProbeFailures.inc(s.gpuHealth.probeFailures);
  m.gpusLost.inc(s.gpuHealth.gpusLost);
  m.migLayoutChanges.inc(s.gpuHealth.migLayoutChanges);
  for (const p of s.hostGpuProcesses) m.hostGpuProcesses.inc({ user: p.user }, p.count);

  if (runtime.stateDisk) {
    for (const type of ['total', 'used', 'free'] as const)
      m.stateDiskBytes.set({ type }, runtime.stateDisk[type]);
  }
  if (runtime.sshSessions) {
    for (const u of runtime.sshSessions) m.sshSessionsActive.set({ user: u.user }, u.count);
    m.sshSessionsTotal.set(runtime.sshSessions.reduce((sum, u) => sum + u.count, 0));
  }
  for (const p of runtime.projections) {
    m.projectionLagEvents.set({ projection: p.projection }, p.lagEvents);
    m.projectionLagSeconds.set({ projection: p.projection }, p.lagSeconds);
  }
  for (const h of runtime.services) {
    m.serviceHealth.set({ service: h.service, reading: h.name }, h.value);
    if (h.service === 'docker-watcher' && h.name === 'connected') m.dockerWatcherConnected.set(h.value);
  }
  m.lastRefresh.set(now.getTime() / 1000);
}
