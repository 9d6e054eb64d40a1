import { effectiveLimits, loadResourceLimits, type ResourceLimits } from '@ds01/config';
import {
  displayNameOf,
  formatGpuEquivalents,
  type GpuUsageWindowData,
  gpuActivityOf,
  gpuUsageStream,
  hostGpuProcessStream,
} from '@ds01/domain';
import type { EventStore } from '@ds01/event-store';
import { LifecycleReadModel } from '@ds01/lifecycle';
import {
  allocationProjection,
  CONTAINER_ROW_COLUMNS,
  ContainerRow,
  containersProjection,
  lifecycleProjection,
  type SlotStatusRow,
  slotStatus,
} from '@ds01/projections';
import { z } from 'zod';
import type { CliContext } from '../context.ts';
import { limitsLine, type ShownLimits } from '../output/limits.ts';
import { type Column, renderTable, truncate } from '../output/table.ts';
import { terminalSafe } from '../output/terminalText.ts';
import { relativeTime } from '../output/time.ts';
import { freshReadModel } from '../projections/freshView.ts';

/** The dashboard fits a plain terminal: wider lines are cut with an ellipsis. */
export const DASHBOARD_WIDTH = 80;
/** Tables are indented under their section's title. */
const INDENT = '  ';

/**
 * A latest usage window older than this many window lengths is not "now": the sampler stopped, so
 * the slot's utilisation is unknown rather than what it was then.
 */
const STALE_WINDOWS = 2;

/** A utilisation, 0-100 %: GR_ENGINE_ACTIVE where DCGM gave it, else a whole GPU's utilisation. */
export interface Utilisation {
  meanPercent: number;
  maxPercent: number;
  windowEnd: string;
}

export interface DashboardSlot {
  host: string;
  slot: string;
  profile: string;
  /** null: free. */
  holder: { user: string | null; container: string | null; since: string } | null;
  /** null: unknown (no recent window, or a MIG slot without dcgm-exporter): never shown as 0. */
  utilisation: Utilisation | null;
}

export interface DashboardUser {
  user: string;
  containers: { name: string; status: string; gpu: string }[];
  gpuEquivalents: number;
  /** null with limitsError: the configuration did not give this user's limits. */
  limits: ShownLimits | null;
  limitsError?: string;
}

export interface DashboardRetirement {
  container: string;
  owner: string | null;
  /** When it is due. */
  at: string;
  /** The rule: idle, max_runtime, ... or gpu_hold (a stopped container's GPUs are released). */
  reason: string;
  /** What happens then: stop, stop_and_remove, remove, release GPU 1.2 ... */
  action: string;
  detail: string;
}

export interface DashboardHostProcess {
  host: string;
  pid: number;
  /** null: nobody explains it (UnattributedGpuProcess). */
  user: string | null;
  slot: string | null;
  gpuUuid: string;
  memoryMiB: number | null;
  command: string;
}

/** What `ds01 admin dashboard` shows, and `--json` prints as is. */
export interface Dashboard {
  at: string;
  gpus: DashboardSlot[];
  users: DashboardUser[];
  idle: { name: string; owner: string | null; idleSince: string }[];
  retirements: DashboardRetirement[];
  unmanaged: { name: string; status: string; gpu: string }[];
  hostProcesses: DashboardHostProcess[];
}

/** The server now, from the read models (caught up first when no ds01d keeps them) and the log. */
export async function readDashboard(context: CliContext, now = new Date()): Promise<Dashboard> {
  const readModel = await freshReadModel(context, [
    containersProjection,
    allocationProjection,
    lifecycleProjection,
  ]);
  const store = await context.store();
  const rows = readModel.query(
    ContainerRow,
    `SELECT ${CONTAINER_ROW_COLUMNS} FROM containers WHERE status <> 'removed' ORDER BY owner, name`,
  );
  const names = new Map(rows.map((r) => [r.container_id, displayNameOf(r.name)]));
  const nameOf = (id: string | null) => (id === null ? null : (names.get(id) ?? id.slice(0, 12)));
  const slots = slotStatus(readModel).filter((s) => s.in_inventory === 1 || s.since !== null);
  const hosts = [...new Set([context.config().host, ...slots.map((s) => s.host)])].sort();
  const windows = new Map<string, GpuUsageWindowData>();
  for (const host of hosts) {
    const hostSlots = slots.filter((s) => s.host === host).map((s) => s.slot);
    for (const [slot, window] of await latestWindows(store, host, hostSlots, now)) {
      windows.set(`${host}/${slot}`, window);
    }
  }
  const lifecycle = new LifecycleReadModel({
    rows: (sql, ...params) => readModel.query(z.unknown(), sql, ...params),
  });
  return {
    at: now.toISOString(),
    gpus: slots.map((s) => ({
      host: s.host,
      slot: s.slot,
      profile: s.profile,
      holder: s.since === null ? null : { user: s.user, container: nameOf(s.container_id), since: s.since },
      utilisation: utilisationOf(windows.get(`${s.host}/${s.slot}`), now),
    })),
    users: usersOf(context, rows, slots),
    idle: rows
      .filter((r) => r.idle_since)
      .map((r) => ({ name: displayNameOf(r.name), owner: r.owner, idleSince: r.idle_since! })),
    retirements: [
      ...lifecycle.pending().map((r) => ({
        container: nameOf(r.container_id) ?? displayNameOf(r.name),
        owner: r.user,
        at: r.pending_at!,
        reason: r.pending_reason ?? '?',
        action: r.state.pending?.action ?? '?',
        detail: r.state.pending?.detail ?? '',
      })),
      ...slots
        .filter((s) => s.hold_expires_at !== null)
        .map((s) => ({
          container: nameOf(s.container_id) ?? '?',
          owner: s.user,
          at: s.hold_expires_at!,
          reason: 'gpu_hold',
          action: `release GPU ${s.slot}`,
          detail: `stopped ${s.hold_stopped_at ?? '?'}: its GPU hold ends`,
        })),
    ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at)),
    unmanaged: rows.filter((r) => r.unmanaged).map((r) => ({ name: r.name, status: r.status, gpu: r.gpu })),
    hostProcesses: (await Promise.all(hosts.map((host) => hostProcessesOn(store, host)))).flat(),
  };
}

/**
 * Each user with a container or a GPU, their containers and limits. Limits are resolved per user
 * (effectiveLimits): configuration that does not load, or one user's that does not resolve, shows
 * as that user's error and everything else still renders.
 */
function usersOf(context: CliContext, rows: ContainerRow[], slots: SlotStatusRow[]): DashboardUser[] {
  let config: ResourceLimits | Error;
  try {
    config = loadResourceLimits(context.config().paths.configDir);
  } catch (error) {
    config = error as Error;
  }
  const users = new Set<string>();
  for (const r of rows) if (r.owner && !r.unmanaged) users.add(r.owner);
  for (const s of slots) if (s.user && s.since !== null) users.add(s.user);
  return [...users].sort().map((user) => {
    const containers = rows
      .filter((r) => r.owner === user && !r.unmanaged)
      .map((r) => ({ name: displayNameOf(r.name), status: r.status, gpu: r.gpu }));
    const gpuEquivalents = slots
      .filter((s) => s.user === user && s.since !== null)
      .reduce((sum, s) => sum + s.gpu_equivalents, 0);
    try {
      if (config instanceof Error) throw config;
      return { user, containers, gpuEquivalents, limits: effectiveLimits(config, user) };
    } catch (error) {
      return { user, containers, gpuEquivalents, limits: null, limitsError: (error as Error).message };
    }
  });
}

/**
 * The latest usage window of each slot, from the end of today's (then yesterday's) gpu-usage stream:
 * every slot's windows close together, so the last few events of the stream hold them all.
 */
async function latestWindows(
  store: EventStore,
  host: string,
  slotIds: readonly string[],
  now: Date,
): Promise<Map<string, GpuUsageWindowData>> {
  const found = new Map<string, GpuUsageWindowData>();
  const wanted = new Set(slotIds);
  for (const day of [now, new Date(now.getTime() - 86_400_000)]) {
    if (found.size === wanted.size) break;
    const events = store.readStream(gpuUsageStream(host, day), {
      direction: 'backwards',
      maxCount: wanted.size * 3,
    });
    for await (const event of events) {
      if (event.type !== 'GpuUsageWindowRecorded') continue;
      const window = event.data as GpuUsageWindowData;
      if (wanted.has(window.device.slot) && !found.has(window.device.slot))
        found.set(window.device.slot, window);
    }
  }
  return found;
}

/** A recent window's activity as percent; null when unknown (no window, a stale one, no measure). */
function utilisationOf(window: GpuUsageWindowData | undefined, now: Date): Utilisation | null {
  if (!window) return null;
  const length = Date.parse(window.windowEnd) - Date.parse(window.windowStart);
  if (now.getTime() - Date.parse(window.windowEnd) > STALE_WINDOWS * Math.max(length, 60_000)) return null;
  const mean = gpuActivityOf(window, { measure: 'mean' });
  const max = gpuActivityOf(window, { measure: 'max' });
  if (mean === null || max === null) return null;
  return {
    meanPercent: Math.round(mean * 100),
    maxPercent: Math.round(max * 100),
    windowEnd: window.windowEnd,
  };
}

/** The host GPU processes running now: detected (or unattributed) and not ended, from the host's stream. */
async function hostProcessesOn(store: EventStore, host: string): Promise<DashboardHostProcess[]> {
  const running = new Map<string, DashboardHostProcess>();
  for await (const event of store.readStream(hostGpuProcessStream(host))) {
    const data = event.data as {
      processKey: string;
      pid: number;
      user?: string | null;
      slot?: string | null;
      gpuUuid?: string;
      usedMemoryMiB?: number | null;
      command?: string;
    };
    if (event.type === 'HostGpuProcessDetected' || event.type === 'UnattributedGpuProcess') {
      running.set(data.processKey, {
        host,
        pid: data.pid,
        user: data.user ?? null,
        slot: data.slot ?? null,
        gpuUuid: data.gpuUuid ?? '?',
        memoryMiB: data.usedMemoryMiB ?? null,
        command: data.command ?? '',
      });
    } else if (event.type === 'HostGpuProcessEnded') {
      running.delete(data.processKey);
    }
  }
  return [...running.values()];
}

export function renderDashboard(d: Dashboard): string[] {
  const now = new Date(d.at);
  const width = DASHBOARD_WIDTH - INDENT.length;
  const multiHost = new Set(d.gpus.map((g) => g.host)).size > 1;
  const section = <Row>(title: string, columns: Column<Row>[], rows: readonly Row[]): string[] => [
    '',
    title,
    ...(rows.length === 0
      ? [`${INDENT}(none)`]
      : renderTable(columns, rows, width)
          .split('\n')
          .map((line) => `${INDENT}${line}`)),
  ];
  const lines = [`DS01 dashboard at ${d.at}`];
  lines.push(
    ...section<DashboardSlot>(
      'GPUS AND MIG SLOTS',
      [
        { header: 'slot', value: (g) => (multiHost ? `${g.host}/${g.slot}` : g.slot) },
        { header: 'profile', value: (g) => g.profile },
        {
          header: 'holder',
          value: (g) =>
            g.holder === null
              ? 'free'
              : `${g.holder.user ?? '(unknown owner)'}${g.holder.container ? ` (${g.holder.container})` : ''}`,
          shrink: true,
        },
        {
          header: 'util mean/max',
          value: (g) =>
            g.utilisation ? `${g.utilisation.meanPercent}% / ${g.utilisation.maxPercent}%` : '?',
        },
      ],
      d.gpus,
    ),
  );
  lines.push('', 'USERS AND CONTAINERS');
  if (d.users.length === 0) lines.push(`${INDENT}(none)`);
  for (const u of d.users) {
    const limits = u.limits
      ? limitsLine(u.limits, { gpuEquivalents: u.gpuEquivalents, containers: u.containers.length })
      : `GPUs ${formatGpuEquivalents(u.gpuEquivalents)}, containers ${u.containers.length}, limits: error`;
    lines.push(`${INDENT}${u.user}: ${limits}`);
    for (const c of u.containers) lines.push(`${INDENT}  ${c.name}  ${c.status}  gpu ${c.gpu || '-'}`);
  }
  lines.push(
    ...section(
      'IDLE CONTAINERS',
      [
        { header: 'container', value: (c) => c.name, shrink: true },
        { header: 'owner', value: (c) => c.owner ?? '?' },
        { header: 'idle since', value: (c) => relativeTime(c.idleSince, now) },
      ],
      d.idle,
    ),
    ...section<DashboardRetirement>(
      'UPCOMING RETIREMENTS',
      [
        { header: 'when', value: (r) => relativeTime(r.at, now) },
        { header: 'container', value: (r) => r.container, shrink: true },
        { header: 'owner', value: (r) => r.owner ?? '?' },
        { header: 'why', value: (r) => r.reason },
        { header: 'then', value: (r) => r.action.replaceAll('_', ' '), shrink: true },
      ],
      d.retirements,
    ),
    ...section(
      'UNMANAGED CONTAINERS',
      [
        { header: 'container', value: (c) => c.name, shrink: true },
        { header: 'status', value: (c) => c.status },
        { header: 'gpu', value: (c) => c.gpu || '-' },
      ],
      d.unmanaged,
    ),
    ...section<DashboardHostProcess>(
      'HOST GPU PROCESSES',
      [
        { header: 'pid', value: (p) => String(p.pid), align: 'right' },
        { header: 'user', value: (p) => p.user ?? '(unattributed)' },
        { header: 'gpu', value: (p) => (multiHost ? `${p.host}/` : '') + (p.slot ?? p.gpuUuid) },
        {
          header: 'memory',
          value: (p) => (p.memoryMiB === null ? '?' : `${p.memoryMiB} MiB`),
          align: 'right',
        },
        { header: 'command', value: (p) => p.command, shrink: true },
      ],
      d.hostProcesses,
    ),
  );
  // Names and commands come from outside DS01: escaped before they are measured, then cut to fit.
  return lines.map((line) => truncate(terminalSafe(line), DASHBOARD_WIDTH));
}
