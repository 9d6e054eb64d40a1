import type { ContainerState } from './containerState.ts';
import type { ContainerEvent } from './planned.ts';

/**
 * Whether the log already tells what this event says, though under another event id. The same
 * transition can reach the log twice by two paths: reconciliation records a container that stopped
 * while the watcher was not listening, then Docker's own `die` event for that stop arrives when the
 * watcher follows the event stream again. Event ids dedupe re-reads of one Docker event; this dedupes
 * the two paths, from what a container's life allows: a running container cannot start, an exited
 * one cannot stop again, a container is created and removed once.
 */
export function alreadyKnown(state: ContainerState | undefined, event: ContainerEvent): boolean {
  if (!state) return false;
  switch (event.type) {
    case 'ContainerCreated':
      return state.description !== null;
    case 'UnmanagedContainerDetected':
      return state.unmanaged;
    case 'ContainerStarted':
      return state.status === 'running' || state.status === 'paused';
    case 'ContainerStopped':
      return state.status === 'exited' || state.status === 'removed';
    case 'ContainerPaused':
      return state.status === 'paused';
    case 'ContainerUnpaused':
      return state.status !== 'paused';
    case 'ContainerRemoved':
      return state.status === 'removed';
    case 'ContainerRestarted':
    case 'ContainerRenamed':
    case 'ContainerHealthChanged':
    case 'ContainerIdle':
      return false;
  }
}
