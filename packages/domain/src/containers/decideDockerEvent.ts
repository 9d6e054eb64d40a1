import { unknownFacts } from './alreadyKnown.ts';
import type { ContainerState } from './containerState.ts';
import { timeNanoOfInstant } from './description.ts';
import { baseAction, type DockerContainerEvent, domainEventsFor } from './dockerEvents.ts';
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
 * - a `die` of a container the log does not have running (its start came before the watcher subscribed)
 *   is settled by reading the container (`read-again`), as is the next case;
 * - one case stays open: a `start` that happened while reconciliation read an exited container may be
 *   the start of the run it read (whose process ended at once, before dockerd published the start) or
 *   a new run. Docker keeps only the latest run's times, so nothing the log has can tell. The watcher
 *   then reads the container again (`read-again`) and reconciles it with that read: the event arrived
 *   before the read began, so it is part of what is read, like every event of the container before it.
 */
export type DockerEventDecision =
  | { kind: 'record'; events: PlannedContainerEvent[] }
  | { kind: 'read-again' };

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
  const at = BigInt(event.timeNano);
  const action = baseAction(event.action);
  const snapshot = state?.snapshot;
  if (snapshot && READ_BY_RECONCILIATION.has(action)) {
    if (at < BigInt(timeNanoOfInstant(snapshot.from))) return { kind: 'record', events: [] };
    if (
      action === 'start' &&
      at <= BigInt(timeNanoOfInstant(snapshot.until)) &&
      state.status === 'exited' &&
      state.statusObservation === 'reconciled'
    ) {
      return { kind: 'read-again' };
    }
  }
  if (action === 'die' && unexplainedStop(state, at)) return { kind: 'read-again' };
  return { kind: 'record', events: newFacts(state, event) };
}

/**
 * A stop of a container the log does not have running, and that the log's last change does not already
 * tell: its start happened before the watcher subscribed (or Docker dropped it), so the log lacks it.
 * Recording the stop alone would lose that run; a read of the container tells both.
 */
function unexplainedStop(state: ContainerState | undefined, at: bigint): boolean {
  if (state?.status === 'running' || state?.status === 'paused' || state?.status === 'removed') return false;
  const last = state?.lastTransitionNano;
  return last === null || last === undefined || at > BigInt(last);
}

/** The event's domain events whose change the log does not tell yet, in order. */
function newFacts(state: ContainerState | undefined, event: DockerContainerEvent): PlannedContainerEvent[] {
  // A `die` after an `oom` since the container started is an OOM kill.
  return unknownFacts(state, domainEventsFor(event, { oomKilled: state?.outOfMemorySinceStart ?? false }));
}
