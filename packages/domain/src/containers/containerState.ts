import type { ContainerDescription } from './description.ts';
import type { ContainerEvent } from './planned.ts';

/** A container's life as far as DS01's log tells it. */
export type ContainerStatus = 'created' | 'running' | 'paused' | 'exited' | 'removed';

export interface ContainerState {
  containerId: string;
  name: string;
  status: ContainerStatus;
  /** From ContainerCreated; null when the log has events of it but not its creation. */
  description: ContainerDescription | null;
  /** Reported as UnmanagedContainerDetected. */
  unmanaged: boolean;
  startedAt: string | null;
  finishedAt: string | null;
  removedAt: string | null;
  exitCode: number | null;
  oomKilled: boolean;
  health: 'starting' | 'healthy' | 'unhealthy' | null;
  restarts: number;
  idleSince: string | null;
  /** occurredAt of the last event folded in: reconciliation looks for what happened after it. */
  lastEventAt: string;
}

function initial(containerId: string, name: string, at: string): ContainerState {
  return {
    containerId,
    name,
    status: 'created',
    description: null,
    unmanaged: false,
    startedAt: null,
    finishedAt: null,
    removedAt: null,
    exitCode: null,
    oomKilled: false,
    health: null,
    restarts: 0,
    idleSince: null,
    lastEventAt: at,
  };
}

const later = (a: string, b: string) => (a > b ? a : b);

/**
 * Folds one event of a container's stream (with its occurredAt) into the container's state. Pure; the
 * watcher (to reconcile) and the containers projection (to answer `ds01 containers`) share it.
 */
export function evolveContainerState(
  state: ContainerState | undefined,
  event: ContainerEvent,
  occurredAt: string,
): ContainerState {
  const data = event.data;
  const current = state ?? initial(data.containerId, 'name' in data ? data.name : '', occurredAt);
  const next: ContainerState = { ...current, lastEventAt: later(current.lastEventAt, occurredAt) };
  if ('name' in data && data.name) next.name = data.name;
  switch (event.type) {
    case 'ContainerCreated': {
      const {
        containerId: _id,
        name: _name,
        observation: _obs,
        dockerEvent: _docker,
        ...description
      } = event.data;
      return { ...next, description };
    }
    case 'UnmanagedContainerDetected':
      next.unmanaged = true;
      return next;
    case 'ContainerStarted':
      return { ...next, status: 'running', startedAt: event.data.startedAt, idleSince: null };
    case 'ContainerStopped':
      return {
        ...next,
        status: 'exited',
        finishedAt: event.data.finishedAt,
        exitCode: event.data.exitCode,
        oomKilled: event.data.oomKilled,
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
  }
}
