import { type ContainerState, dockerTimeOf, evolveContainerState } from './containerState.ts';
import type { ContainerEvent, PlannedContainerEvent } from './planned.ts';

/**
 * Whether the log already tells what this event says, though under another event id. The same
 * transition can reach the log twice by two paths: reconciliation records a container that started or
 * stopped while the watcher was not listening, then Docker's own event for it arrives when the watcher
 * reads the event stream again. Event ids dedupe re-reads of one Docker event; this dedupes the two
 * paths, from what a container's life allows (a running container cannot start, an exited one cannot
 * stop again, a container is created and removed once) and from time: a change of status that happened
 * before the last one the log has is already part of what reconciliation found.
 */
export function alreadyKnown(
  state: ContainerState | undefined,
  event: ContainerEvent,
  occurredAt: string,
): boolean {
  if (!state) return false;
  // Docker never reuses an id: nothing happens to a container after its removal.
  if (
    state.status === 'removed' &&
    event.type !== 'ContainerDescribed' &&
    event.type !== 'UnmanagedContainerDetected'
  )
    return true;
  const olderThanLog =
    state.lastTransitionNano !== null &&
    BigInt(dockerTimeOf(event, occurredAt)) < BigInt(state.lastTransitionNano);
  switch (event.type) {
    case 'ContainerCreated':
      return state.createdAt !== null;
    case 'ContainerDescribed':
      return state.description !== null;
    case 'UnmanagedContainerDetected':
      return state.unmanaged;
    case 'ContainerStarted':
      return olderThanLog || state.status === 'running' || state.status === 'paused';
    case 'ContainerStopped':
      return olderThanLog || state.status === 'exited' || state.status === 'removed';
    case 'ContainerPaused':
      return olderThanLog || state.status === 'paused';
    case 'ContainerUnpaused':
      return olderThanLog || state.status !== 'paused';
    case 'ContainerRemoved':
      return state.status === 'removed';
    case 'ContainerOutOfMemory':
    case 'ContainerRestarted':
    case 'ContainerRenamed':
    case 'ContainerHealthChanged':
    case 'ContainerIdle':
    case 'ContainerActiveAgain':
      return false;
  }
}

/** One container's planned events whose change the log does not tell yet (see alreadyKnown), in order. */
export function unknownFacts(
  state: ContainerState | undefined,
  planned: readonly PlannedContainerEvent[],
): PlannedContainerEvent[] {
  const fresh: PlannedContainerEvent[] = [];
  let current = state;
  for (const p of planned) {
    if (alreadyKnown(current, p.event, p.occurredAt)) continue;
    fresh.push(p);
    current = evolveContainerState(current, p.event, p.occurredAt);
  }
  return fresh;
}
