import type { ContainerDescription } from './description.ts';
import { observedEventId } from './eventIds.ts';
import {
  ContainerCreated,
  ContainerHealth,
  ContainerHealthChanged,
  ContainerPaused,
  ContainerRemoved,
  ContainerRenamed,
  ContainerRestarted,
  ContainerStarted,
  ContainerStopped,
  ContainerUnpaused,
  type DockerEventRef,
  UnmanagedContainerDetected,
} from './events.ts';
import type { ContainerEvent, PlannedContainerEvent } from './planned.ts';

/** A Docker container event as the host layer reads it off the stream (timeNano kept exact). */
export interface DockerContainerEvent {
  id: string;
  action: string;
  timeNano: string;
  /** The event's Actor.Attributes: name, image, exitCode, oldName... and the container's labels. */
  attributes: Readonly<Record<string, string>>;
}

/** Docker actions that become domain events; every other action (exec_*, attach, kill, top...) is noise. */
export type RecordedAction =
  | 'create'
  | 'start'
  | 'die'
  | 'restart'
  | 'pause'
  | 'unpause'
  | 'rename'
  | 'health_status'
  | 'destroy';

/** `health_status: healthy` → `health_status` (Docker puts the status in the action). */
export function baseAction(action: string): string {
  return action.split(':')[0]!.trim();
}

/** Whether mapping this event needs the container's description (only its creation does). */
export function needsDescription(event: DockerContainerEvent): boolean {
  return baseAction(event.action) === 'create';
}

/** Docker's nanoseconds since the epoch → ISO-8601 (milliseconds). */
export function instantOfTimeNano(timeNano: string): string {
  return new Date(Number(BigInt(timeNano) / 1_000_000n)).toISOString();
}

export interface DockerEventContext {
  /** For `create`: the container as inspected (or as its event attributes tell, when it is gone). */
  description?: ContainerDescription;
  /** For `die`: whether Docker reported an `oom` for it, or its State.OOMKilled. */
  oomKilled?: boolean;
}

export class MissingDescriptionError extends Error {
  override readonly name = 'MissingDescriptionError';
}

/**
 * The domain events one Docker container event stands for, each with the id derived from the Docker
 * event's identity. Actions that DS01 does not record give none.
 */
export function domainEventsFor(
  event: DockerContainerEvent,
  context: DockerEventContext = {},
): PlannedContainerEvent[] {
  const dockerEvent: DockerEventRef = { id: event.id, action: event.action, timeNano: event.timeNano };
  const occurredAt = instantOfTimeNano(event.timeNano);
  const ref = {
    containerId: event.id,
    name: event.attributes['name'] ?? '',
    observation: 'observed' as const,
    dockerEvent,
  };
  const planned = (domainEvent: ContainerEvent): PlannedContainerEvent => ({
    eventId: observedEventId(dockerEvent, domainEvent.type),
    occurredAt,
    event: domainEvent,
  });
  switch (baseAction(event.action) as RecordedAction) {
    case 'create': {
      const description = context.description;
      if (!description)
        throw new MissingDescriptionError(`create of ${event.id} needs the container's description`);
      const created = planned(ContainerCreated({ ...ref, ...description }));
      if (description.managed || description.infrastructure) return [created];
      return [created, planned(unmanaged(ref, description))];
    }
    case 'start':
      return [planned(ContainerStarted({ ...ref, startedAt: occurredAt }))];
    case 'die': {
      const exitCode = Number.parseInt(event.attributes['exitCode'] ?? '', 10);
      return [
        planned(
          ContainerStopped({
            ...ref,
            exitCode: Number.isNaN(exitCode) ? null : exitCode,
            oomKilled: context.oomKilled ?? false,
            finishedAt: occurredAt,
          }),
        ),
      ];
    }
    case 'restart':
      return [planned(ContainerRestarted(ref))];
    case 'pause':
      return [planned(ContainerPaused(ref))];
    case 'unpause':
      return [planned(ContainerUnpaused(ref))];
    case 'rename':
      return [
        planned(
          ContainerRenamed({ ...ref, oldName: (event.attributes['oldName'] ?? '').replace(/^\//, '') }),
        ),
      ];
    case 'health_status': {
      const health = ContainerHealth.safeParse(event.action.split(':')[1]?.trim());
      return health.success ? [planned(ContainerHealthChanged({ ...ref, health: health.data }))] : [];
    }
    case 'destroy':
      return [planned(ContainerRemoved(ref))];
    default:
      return [];
  }
}

/** The UnmanagedContainerDetected that accompanies the creation of a container DS01 did not make. */
export function unmanaged(
  ref: {
    containerId: string;
    name: string;
    observation: 'observed' | 'reconciled';
    dockerEvent: DockerEventRef | null;
  },
  description: ContainerDescription,
) {
  return UnmanagedContainerDetected({
    ...ref,
    owner: description.owner,
    interface: description.interface,
    type: description.type,
    image: description.image,
    gpu: description.gpu,
  });
}
