import type { ContainerInspect, DockerContainerEvent } from '@ds01/domain';
import { inspectWith } from '../inspectFixture.ts';

/**
 * A dockerd as the watcher sees it, from a generated history of container operations. Times are in
 * microseconds after BASE. What the model keeps of dockerd (moby 20.10, daemon/start.go, monitor.go,
 * pause.go, inspect.go):
 * - a change of state happens at `w`, and its event is published at `t >= w` with the container's lock
 *   held in between; inspect takes the lock, so a read never falls in (w, t] — it waits until t;
 * - a process can exit (FinishedAt) before its start event is published; its die event comes after;
 * - the event stream delivers events in publish order; `since` replays from a ring of the last events.
 */
export const BASE_MS = Date.parse('2026-12-01T00:00:00.000Z');

export type Action = 'create' | 'start' | 'die' | 'pause' | 'unpause' | 'destroy';

export interface Operation {
  containerId: string;
  action: Action;
  /** When the state changed (µs). */
  w: number;
  /** When the event was published (µs), >= w. */
  t: number;
  /** start: State.StartedAt; die: State.FinishedAt (may be before the start's t). */
  dockerTime?: number;
  exitCode?: number;
}

export interface ContainerHistory {
  containerId: string;
  name: string;
  operations: Operation[];
}

/** µs → Docker's timeNano. */
export const timeNano = (us: number) => `${BigInt(BASE_MS) * 1_000_000n + BigInt(us) * 1000n}`;

/** µs → RFC 3339 with microseconds, as Docker writes State times. */
export function dockerTime(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(BASE_MS + ms).toISOString();
  return `${iso.slice(0, 23)}${String(us % 1000).padStart(3, '0')}Z`;
}

/** µs → the ISO instant (ms, rounded down) the watcher reads from its clock. */
export const clockFloor = (us: number) => new Date(BASE_MS + Math.floor(us / 1000)).toISOString();
/** µs → the next ms (the watcher's `until`, see snapshotContainers). */
export const clockCeil = (us: number) => new Date(BASE_MS + Math.floor(us / 1000) + 1).toISOString();

export function eventOf(op: Operation, name: string): DockerContainerEvent {
  return {
    id: op.containerId,
    action: op.action,
    timeNano: timeNano(op.t),
    attributes: {
      name,
      image: 'busybox',
      ...(op.action === 'die' ? { exitCode: String(op.exitCode ?? 0) } : {}),
    },
  };
}

/** Docker's view of one container at time x (µs), or undefined when it does not exist then. */
export function stateAt(history: ContainerHistory, x: number) {
  let exists = false;
  let status: 'created' | 'running' | 'paused' | 'exited' = 'created';
  let startedAt: number | null = null;
  let finishedAt: number | null = null;
  let exitCode = 0;
  let createdAt = 0;
  for (const op of history.operations) {
    if (op.w > x) break;
    switch (op.action) {
      case 'create':
        exists = true;
        createdAt = op.w;
        break;
      case 'start':
        status = 'running';
        startedAt = op.dockerTime!;
        break;
      case 'die':
        status = 'exited';
        finishedAt = op.dockerTime!;
        exitCode = op.exitCode ?? 0;
        break;
      case 'pause':
        status = 'paused';
        break;
      case 'unpause':
        status = 'running';
        break;
      case 'destroy':
        exists = false;
        break;
    }
  }
  return exists ? { status, startedAt, finishedAt, exitCode, createdAt } : undefined;
}

/** The moment a read asked at x actually reads: after any lock held at x. */
export function readPoint(history: ContainerHistory, x: number): number {
  let at = x;
  for (const op of history.operations) {
    if (op.action === 'create' || op.action === 'destroy') continue;
    if (op.w < at && at < op.t) at = op.t;
  }
  return at;
}

/** `docker inspect` read at x (after any lock), or undefined: the container is gone. */
export function inspectAt(history: ContainerHistory, x: number): ContainerInspect | undefined {
  const state = stateAt(history, x);
  if (!state) return undefined;
  const zero = '0001-01-01T00:00:00Z';
  const inspect = inspectWith({
    id: history.containerId,
    name: history.name,
    labels: {},
    state: {
      Status: state.status,
      Running: state.status === 'running' || state.status === 'paused',
      Paused: state.status === 'paused',
      Restarting: false,
      OOMKilled: false,
      ExitCode: state.exitCode,
      StartedAt: state.startedAt === null ? zero : dockerTime(state.startedAt),
      FinishedAt: state.finishedAt === null ? zero : dockerTime(state.finishedAt),
    },
  });
  return { ...inspect, Created: dockerTime(state.createdAt) };
}
