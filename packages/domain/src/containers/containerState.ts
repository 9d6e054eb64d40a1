import type { EventOf } from '../events/defineEvent.ts';
import { ContainerCreateAuthorized } from '../gateway/events.ts';
import type { Observation } from '../values.ts';
import { type Attribution, gatewayOwner } from './attribution.ts';
import { type ContainerDescription, timeNanoOfInstant } from './description.ts';
import { containerEvents, type SnapshotWindow } from './events.ts';
import type { ContainerEvent } from './planned.ts';

/**
 * Every event of a container's stream: the watcher's (Docker's facts and DS01's reading of them) and
 * the gateway's ContainerCreateAuthorized (who created it through their socket).
 */
export type ContainerStreamEvent = ContainerEvent | EventOf<typeof ContainerCreateAuthorized>;

/** The types of ContainerStreamEvent: what a reader of a container's state folds. */
export const containerStreamEventTypes: readonly ContainerStreamEvent['type'][] = [
  ...containerEvents.map((e) => e.type),
  ContainerCreateAuthorized.type,
];

/** A container's life as far as DS01's log tells it. */
export type ContainerStatus = 'created' | 'running' | 'paused' | 'exited' | 'removed';

export interface ContainerState {
  containerId: string;
  name: string;
  status: ContainerStatus;
  /** When ContainerCreated happened; null when the log has events of it but not its creation. */
  createdAt: string | null;
  /** From ContainerCreated. */
  image: string | null;
  labels: Readonly<Record<string, string>>;
  /** From ContainerDescribed; null until DS01 has described it. Its owner is a claim (attribution.ts). */
  description: ContainerDescription | null;
  /**
   * From the gateway's ContainerCreateAuthorized: the owner its creator could not write. Null: it did
   * not come through a user's socket (or not yet: the gateway appends after dockerd answered, so it
   * may follow the watcher's events). Absent on states folded before 2026-12.
   */
  verifiedOwner?: Attribution | null;
  /** Reported as UnmanagedContainerDetected. */
  unmanaged: boolean;
  startedAt: string | null;
  finishedAt: string | null;
  removedAt: string | null;
  exitCode: number | null;
  /** Whether its last stop was an OOM kill. */
  oomKilled: boolean;
  /** A ContainerOutOfMemory since it last started: its next stop is an OOM kill. */
  outOfMemorySinceStart: boolean;
  health: 'starting' | 'healthy' | 'unhealthy' | null;
  restarts: number;
  idleSince: string | null;
  /** occurredAt of the last event folded in: reconciliation looks for what happened after it. */
  lastEventAt: string;
  /** occurredAt of the last change of status (created, started, stopped, paused, unpaused, removed). */
  lastTransitionAt: string | null;
  /**
   * Docker's time (nanoseconds, as decimal digits) of the last change of status, where the log has it
   * (see dockerTimeOf); null before any.
   */
  lastTransitionNano: string | null;
  /** How the current status was learned: seen in Docker's events, or found by reconciliation. */
  statusObservation: Observation | null;
  /** When reconciliation last read the state it recorded a change of status from (null: never). */
  snapshot: SnapshotWindow | null;
}

function initial(containerId: string, name: string, at: string): ContainerState {
  return {
    containerId,
    name,
    status: 'created',
    createdAt: null,
    image: null,
    labels: {},
    description: null,
    verifiedOwner: null,
    unmanaged: false,
    startedAt: null,
    finishedAt: null,
    removedAt: null,
    exitCode: null,
    oomKilled: false,
    outOfMemorySinceStart: false,
    health: null,
    restarts: 0,
    idleSince: null,
    lastEventAt: at,
    lastTransitionAt: null,
    lastTransitionNano: null,
    statusObservation: null,
    snapshot: null,
  };
}

const TRANSITIONS: ReadonlySet<ContainerEvent['type']> = new Set([
  'ContainerCreated',
  'ContainerStarted',
  'ContainerStopped',
  'ContainerPaused',
  'ContainerUnpaused',
  'ContainerRemoved',
] as const);

const later = (a: string, b: string) => (a > b ? a : b);

/**
 * Who owns the container, as far as DS01 can rest on it: the verified owner where the gateway
 * recorded one, else the description's claim; null: not described yet (and no verified owner).
 */
export function containerOwner(state: ContainerState): Attribution | null {
  return state.verifiedOwner ?? state.description?.owner ?? null;
}

/**
 * Docker's time of a container fact in nanoseconds: its event's timeNano (observed), the State time read
 * (reconciled), else its occurredAt (facts recorded before the log kept nanoseconds).
 */
export function dockerTimeOf(event: ContainerEvent, occurredAt: string): string {
  const data = event.data;
  if ('dockerEvent' in data && data.dockerEvent) return data.dockerEvent.timeNano;
  if ('dockerTimeNano' in data && data.dockerTimeNano) return data.dockerTimeNano;
  return timeNanoOfInstant(occurredAt);
}

/**
 * Folds one event of a container's stream (with its occurredAt) into the container's state. Pure; the
 * watcher (to reconcile) and the containers projection (to answer `ds01 containers`) share it. The
 * gateway's authorization and the watcher's events may come in either order: the verified owner is
 * kept beside the description, never folded into it, so neither order loses it.
 */
export function evolveContainerState(
  state: ContainerState | undefined,
  event: ContainerStreamEvent,
  occurredAt: string,
): ContainerState {
  if (event.type === 'ContainerCreateAuthorized') {
    const current = state ?? initial(event.data.containerId, event.data.name ?? '', occurredAt);
    // The name asked for is only a fallback: the watcher's name is Docker's (and follows renames).
    return {
      ...current,
      name: current.name || (event.data.name ?? ''),
      verifiedOwner: gatewayOwner(event.data),
      lastEventAt: later(current.lastEventAt, occurredAt),
    };
  }
  const data = event.data;
  const current = state ?? initial(data.containerId, 'name' in data ? data.name : '', occurredAt);
  const next: ContainerState = { ...current, lastEventAt: later(current.lastEventAt, occurredAt) };
  if (TRANSITIONS.has(event.type) && 'observation' in data) {
    next.lastTransitionAt =
      current.lastTransitionAt === null ? occurredAt : later(current.lastTransitionAt, occurredAt);
    next.statusObservation = data.observation;
    const nano = dockerTimeOf(event, occurredAt);
    if (current.lastTransitionNano === null || BigInt(nano) > BigInt(current.lastTransitionNano)) {
      next.lastTransitionNano = nano;
    }
  }
  if ('snapshot' in data && data.snapshot) next.snapshot = data.snapshot;
  if ('name' in data && data.name) next.name = data.name;
  switch (event.type) {
    case 'ContainerCreated':
      return { ...next, createdAt: occurredAt, image: event.data.image, labels: event.data.labels };
    case 'ContainerDescribed': {
      const {
        containerId: _id,
        name: _name,
        observation: _obs,
        dockerEvent: _docker,
        snapshot: _snapshot,
        dockerTimeNano: _nano,
        describedFrom: _from,
        ...description
      } = event.data;
      return { ...next, description };
    }
    case 'UnmanagedContainerDetected':
      next.unmanaged = true;
      return next;
    case 'ContainerStarted':
      return {
        ...next,
        status: 'running',
        startedAt: event.data.startedAt,
        idleSince: null,
        outOfMemorySinceStart: false,
      };
    case 'ContainerOutOfMemory':
      // Docker may report the OOM after the die of the same run (containerd's TaskOOM and TaskExit
      // race under load): the stop that came first was that OOM kill.
      if (next.status === 'exited') return { ...next, oomKilled: true };
      return { ...next, outOfMemorySinceStart: true };
    case 'ContainerStopped':
      return {
        ...next,
        status: 'exited',
        finishedAt: event.data.finishedAt,
        exitCode: event.data.exitCode,
        oomKilled: event.data.oomKilled,
        outOfMemorySinceStart: false,
        health: null,
      };
    case 'ContainerRestarted':
      return { ...next, restarts: next.restarts + 1 };
    case 'ContainerPaused':
      return { ...next, status: 'paused' };
    case 'ContainerUnpaused':
      return { ...next, status: 'running' };
    case 'ContainerRenamed':
      return next;
    case 'ContainerHealthChanged':
      return { ...next, health: event.data.health };
    case 'ContainerRemoved':
      return { ...next, status: 'removed', removedAt: occurredAt };
    case 'ContainerIdle':
      return { ...next, idleSince: event.data.idleSince };
    case 'ContainerActiveAgain':
      return { ...next, idleSince: null };
  }
}
