import { alreadyKnown } from './alreadyKnown.ts';
import type { ContainerState } from './containerState.ts';
import { evolveContainerState } from './containerState.ts';
import { isoInstant } from './description.ts';
import { baseAction, type DockerContainerEvent, domainEventsFor, instantOfTimeNano } from './dockerEvents.ts';
import { type ContainerInspect, dockerTimeOrNull } from './inspect.ts';
import type { PlannedContainerEvent } from './planned.ts';

/**
 * Where Docker's events meet what reconciliation found. The watcher listens to Docker's events before it
 * reads `docker ps -a`, so the two overlap: an event can arrive (replayed after a restart, or late on the
 * live stream) for a change that reconciliation already recorded. Whatever order they arrive in, a
 * change of status reaches the log once, decided here on the container's state as the log tells it:
 *
 * - an event older than the read that reconciliation recorded from (`state.snapshot.from`) is part of
 *   what it read: dockerd changes a container's state and publishes the event under the container's
 *   lock, and inspect takes that lock;
 * - a change the log already tells (see alreadyKnown) is not recorded again;
 * - one case stays open: a `start` that happened while reconciliation read an exited container may be
 *   the start of the run it read (whose process ended at once) or a new run. Only a second look at the
 *   container tells (`look-again`, then decideAfterLookingAgain).
 */
export type DockerEventDecision =
  | { kind: 'record'; events: PlannedContainerEvent[] }
  | { kind: 'look-again' };

/** Actions whose effect a reconciliation reads (status, exit, OOM kill, name). */
const READ_BY_RECONCILIATION = new Set([
  'create',
  'start',
  'die',
  'oom',
  'pause',
  'unpause',
  'rename',
  'restart',
  'destroy',
]);

export function decideDockerEvent(
  state: ContainerState | undefined,
  event: DockerContainerEvent,
): DockerEventDecision {
  const at = instantOfTimeNano(event.timeNano);
  const action = baseAction(event.action);
  const snapshot = state?.snapshot;
  if (snapshot && READ_BY_RECONCILIATION.has(action)) {
    if (at < snapshot.from) return { kind: 'record', events: [] };
    if (
      action === 'start' &&
      at <= snapshot.until &&
      state.status === 'exited' &&
      state.statusObservation === 'reconciled'
    ) {
      return { kind: 'look-again' };
    }
  }
  return { kind: 'record', events: newFacts(state, event) };
}

/**
 * The open case of decideDockerEvent, decided on a fresh inspect of the container (undefined: it is gone).
 * Docker keeps only its latest run's start: if that is still the run reconciliation read, no run began
 * since and the event is that run's own start; if the latest run began at or before the event, the event
 * is that run's. Otherwise (several runs since, or the container gone) the event is that run's own start
 * only if it came before the run's exit: any later run starts after the earlier one's exit.
 */
export function decideAfterLookingAgain(
  state: ContainerState,
  event: DockerContainerEvent,
  fresh: ContainerInspect | undefined,
): PlannedContainerEvent[] {
  const at = instantOfTimeNano(event.timeNano);
  const freshStart = fresh ? dockerTimeOrNull(fresh.State.StartedAt) : null;
  const latestRun = freshStart === null ? null : isoInstant(freshStart);
  if (latestRun !== null && latestRun === state.startedAt) return [];
  if (latestRun !== null && latestRun <= at) return newFacts(state, event);
  if (state.finishedAt !== null && at < state.finishedAt) return [];
  return newFacts(state, event);
}

/** The event's domain events whose change the log does not tell yet, in order. */
function newFacts(state: ContainerState | undefined, event: DockerContainerEvent): PlannedContainerEvent[] {
  // A `die` after an `oom` since the container started is an OOM kill.
  const planned = domainEventsFor(event, { oomKilled: state?.outOfMemorySinceStart ?? false });
  const fresh: PlannedContainerEvent[] = [];
  let current = state;
  for (const p of planned) {
    if (alreadyKnown(current, p.event, p.occurredAt)) continue;
    fresh.push(p);
    current = evolveContainerState(current, p.event, p.occurredAt);
  }
  return fresh;
}
