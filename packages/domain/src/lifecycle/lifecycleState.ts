import type { containerEvents } from '../containers/events.ts';
import type { EventOf } from '../events/defineEvent.ts';
import type { ContainerCreateAuthorized } from '../gateway/events.ts';
import { gpuActivityOf } from '../telemetry/containerActivity.ts';
import type { ContainerResourceWindowRecorded, GpuUsageWindowRecorded } from '../telemetry/events.ts';
import { addStep, type Coverage, cover, type Staircase } from './activity.ts';
import type { lifecycleEvents, RetirementAction, RetirementOutcome, RetirementReason } from './events.ts';

/**
 * Every event a container's lifecycle state is folded from: its life (and the gateway's record of who
 * created it), its usage windows (GPU devices and its cgroup; user slices' windows are not a
 * container's), its decisions.
 */
export type LifecycleEvent =
  | EventOf<(typeof containerEvents)[number]>
  | EventOf<typeof ContainerCreateAuthorized>
  | EventOf<typeof GpuUsageWindowRecorded>
  | EventOf<typeof ContainerResourceWindowRecorded>
  | EventOf<(typeof lifecycleEvents)[number]>;

export type LifecycleStatus = 'unknown' | 'created' | 'running' | 'paused' | 'exited' | 'removed';

/** A retirement decided and not yet done (or given up). */
export interface PendingRetirement {
  retirementId: string;
  reason: RetirementReason;
  action: RetirementAction;
  dueAt: string;
  at: string;
  graceSeconds: number;
  warn: boolean;
  detail: string;
  /** Warning leads (minutes) already given. */
  warnedLeads: number[];
  /** The attempt in hand (RetirementStarted without an outcome yet). */
  executing: { attempt: number; startedAt: string } | null;
  attempts: number;
  /** After a failure: not before then; null: at once. */
  retryAt: string | null;
  /** Failed for good: nothing more is tried (a person must look). */
  gaveUp: boolean;
}

export interface LifecycleState {
  containerId: string;
  name: string;
  user: string | null;
  /**
   * The user is the verified owner (created through their gateway socket); false: a claim its
   * creator wrote (a label, a path...), never enough to stop their work as theirs (a departure).
   */
  userVerified: boolean;
  /** ds01-infra's container type and interface (what policy applies): null until described. */
  type: string | null;
  interface: string | null;
  managed: boolean;
  /** The monitoring stack or `ds01.protected`: never retired. */
  infrastructure: boolean;
  /** It can reach a GPU (its description's access is not `none`): idle only where GPU windows say so. */
  gpuAccess: boolean;
  status: LifecycleStatus;
  createdAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** Usage of the current run (reset at each start). */
  usage: {
    cpu: Staircase;
    network: Staircase;
    gpu: Staircase;
    cpuCoverage: Coverage | null;
    /** Null while no GPU window named the container: then its idleness does not wait for one. */
    gpuCoverage: Coverage | null;
  };
  /** The idle streak recorded by ContainerIdle (null: not recorded idle). */
  idleRecordedSince: string | null;
  pending: PendingRetirement | null;
  lastRetirement: {
    retirementId: string;
    reason: RetirementReason;
    outcome: RetirementOutcome;
    at: string;
  } | null;
  /** Admin extension: no idle or max-runtime retirement before then. */
  extendedUntil: string | null;
  /** Admin exemptions: rule → until (null: for good). */
  exemptions: { idle?: string | null; max_runtime?: string | null };
}

const emptyUsage = (): LifecycleState['usage'] => ({
  cpu: [],
  network: [],
  gpu: [],
  cpuCoverage: null,
  gpuCoverage: null,
});

export function initialLifecycleState(containerId = ''): LifecycleState {
  return {
    containerId,
    name: '',
    user: null,
    userVerified: false,
    type: null,
    interface: null,
    managed: false,
    infrastructure: false,
    gpuAccess: false,
    status: 'unknown',
    createdAt: null,
    startedAt: null,
    finishedAt: null,
    usage: emptyUsage(),
    idleRecordedSince: null,
    pending: null,
    lastRetirement: null,
    extendedUntil: null,
    exemptions: {},
  };
}

/**
 * The containers an event is about. A GPU window is about the container holding the device (per the
 * allocation) and every container that ran a process on it: a raw `docker run --gpus all` holds
 * nothing, yet its GPU activity is its own.
 */
export function containersOfLifecycleEvent(event: LifecycleEvent): string[] {
  if (event.type !== 'GpuUsageWindowRecorded') return [event.data.containerId];
  const ids = [event.data.holder.containerId, ...event.data.processes.map((p) => p.containerId)];
  return [...new Set(ids.filter((id): id is string => id !== null))];
}

/** Instants as toISOString writes them, so that they compare as strings. */
const iso = (instant: string) => new Date(instant).toISOString();

/** A window of an earlier run (ended before this run started) says nothing about this one. */
const beforeRun = (state: LifecycleState, windowEnd: string) =>
  state.startedAt !== null && Date.parse(windowEnd) <= Date.parse(state.startedAt);

function withPending(state: LifecycleState, id: string, change: Partial<PendingRetirement>): LifecycleState {
  if (!state.pending || state.pending.retirementId !== id) return state;
  return { ...state, pending: { ...state.pending, ...change } };
}

/**
 * Folds one event into a container's lifecycle state (`occurredAt`: its metadata's, for facts whose
 * data carries no time). Pure; the lifecycle projection and the decider specs share it.
 */
export function evolveLifecycle(
  state: LifecycleState,
  event: LifecycleEvent,
  occurredAt = '',
): LifecycleState {
  const current = state.containerId
    ? state
    : { ...state, containerId: containersOfLifecycleEvent(event)[0] ?? '' };
  switch (event.type) {
    case 'ContainerCreateAuthorized':
      // Through the admin socket nobody in particular: the claims stand.
      return event.data.user === null
        ? current
        : {
            ...current,
            name: current.name || (event.data.name ?? ''),
            user: event.data.user,
            userVerified: true,
          };
    case 'ContainerCreated':
      return {
        ...current,
        name: event.data.name,
        user: current.user ?? event.data.labels['ds01.user'] ?? null,
        status: current.status === 'unknown' ? 'created' : current.status,
        createdAt: occurredAt ? iso(occurredAt) : current.createdAt,
      };
    case 'ContainerDescribed':
      return {
        ...current,
        name: event.data.name || current.name,
        // The description's owner is a claim: it never replaces the gateway's verified one.
        user: current.userVerified ? current.user : event.data.owner.user,
        type: event.data.type,
        interface: event.data.interface,
        managed: event.data.managed,
        infrastructure: event.data.infrastructure,
        gpuAccess: event.data.gpu.access !== 'none',
        createdAt: event.data.createdAt ? iso(event.data.createdAt) : current.createdAt,
      };
    case 'UnmanagedContainerDetected':
      return {
        ...current,
        user: current.user ?? event.data.owner.user,
        type: current.type ?? event.data.type,
        interface: current.interface ?? event.data.interface,
      };
    case 'ContainerRenamed':
      return { ...current, name: event.data.name };
    case 'ContainerStarted':
      return {
        ...current,
        name: event.data.name || current.name,
        status: 'running',
        startedAt: iso(event.data.startedAt),
        finishedAt: null,
        usage: emptyUsage(),
        idleRecordedSince: null,
      };
    case 'ContainerPaused':
      return { ...current, status: 'paused' };
    case 'ContainerUnpaused':
      return { ...current, status: 'running' };
    case 'ContainerStopped':
      return {
        ...current,
        status: 'exited',
        finishedAt: iso(event.data.finishedAt),
        idleRecordedSince: null,
      };
    case 'ContainerRemoved':
      return { ...current, status: 'removed', idleRecordedSince: null };
    case 'ContainerOutOfMemory':
    case 'ContainerRestarted':
    case 'ContainerHealthChanged':
      return current;
    case 'ContainerIdle':
      return { ...current, idleRecordedSince: event.data.idleSince };
    case 'ContainerActiveAgain':
      return { ...current, idleRecordedSince: null };
    case 'ContainerResourceWindowRecorded': {
      const d = {
        ...event.data,
        windowStart: iso(event.data.windowStart),
        windowEnd: iso(event.data.windowEnd),
      };
      if (beforeRun(current, d.windowEnd)) return current;
      const network =
        d.networkRxBytes === null || d.networkTxBytes === null ? null : d.networkRxBytes + d.networkTxBytes;
      const usage = current.usage;
      return {
        ...current,
        usage: {
          ...usage,
          cpu: addStep(usage.cpu, { end: d.windowEnd, value: d.cpuMeanCores * 100 }),
          network: addStep(usage.network, { end: d.windowEnd, value: network }),
          cpuCoverage: cover(usage.cpuCoverage, d.windowStart, d.windowEnd),
        },
      };
    }
    case 'GpuUsageWindowRecorded': {
      const d = {
        ...event.data,
        windowStart: iso(event.data.windowStart),
        windowEnd: iso(event.data.windowEnd),
      };
      if (beforeRun(current, d.windowEnd)) return current;
      const usage = current.usage;
      return {
        ...current,
        usage: {
          ...usage,
          gpu: addStep(usage.gpu, { end: d.windowEnd, value: activityPercent(d) }),
          gpuCoverage: cover(usage.gpuCoverage, d.windowStart, d.windowEnd),
        },
      };
    }
    case 'RetirementScheduled': {
      const d = event.data;
      return {
        ...current,
        user: current.user ?? d.user,
        pending: {
          retirementId: d.retirementId,
          reason: d.reason,
          action: d.action,
          dueAt: d.dueAt,
          at: d.at,
          graceSeconds: d.graceSeconds,
          warn: d.warn,
          detail: d.detail,
          warnedLeads: [],
          executing: null,
          attempts: 0,
          retryAt: null,
          gaveUp: false,
        },
      };
    }
    case 'RetirementWarned': {
      const warned = current.pending?.warnedLeads ?? [];
      return withPending(current, event.data.retirementId, {
        warnedLeads: [...new Set([...warned, ...event.data.leadMinutes])].sort((a, b) => b - a),
      });
    }
    case 'RetirementPostponed':
      return withPending(current, event.data.retirementId, { at: event.data.at });
    case 'RetirementCancelled':
      return current.pending?.retirementId === event.data.retirementId
        ? { ...current, pending: null }
        : current;
    case 'LifecycleExtended':
      return { ...current, extendedUntil: event.data.until };
    case 'LifecycleExemptionGranted': {
      const exemptions = { ...current.exemptions };
      for (const rule of event.data.from) exemptions[rule] = event.data.until;
      return { ...current, exemptions };
    }
    case 'RetirementStarted':
      return withPending(current, event.data.retirementId, {
        executing: { attempt: event.data.attempt, startedAt: event.data.at },
        attempts: Math.max(current.pending?.attempts ?? 0, event.data.attempt),
        retryAt: null,
      });
    case 'RetirementFailed':
      return withPending(current, event.data.retirementId, {
        executing: null,
        retryAt: event.data.retryAt,
        gaveUp: event.data.retryAt === null,
      });
    case 'ContainerRetired': {
      if (current.pending?.retirementId !== event.data.retirementId) return current;
      const { retirementId, reason, outcome, at } = event.data;
      return { ...current, pending: null, lastRetirement: { retirementId, reason, outcome, at } };
    }
  }
}

/** A window's activity in percent, the measure idle detection compares with gpu_idle_threshold. */
function activityPercent(window: Parameters<typeof gpuActivityOf>[0]): number | null {
  const activity = gpuActivityOf(window);
  return activity === null ? null : activity * 100;
}
