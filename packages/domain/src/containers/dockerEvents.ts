import { type ContainerDescription, labelsOfEventAttributes } from './description.ts';
import { observedEventId } from './eventIds.ts';
import {
  ContainerCreated,
  ContainerDescribed,
  ContainerHealth,
  ContainerHealthChanged,
  ContainerOutOfMemory,
  ContainerPaused,
  type ContainerRef,
  ContainerRemoved,
  ContainerRenamed,
  ContainerRestarted,
  ContainerStarted,
  ContainerStopped,
  ContainerUnpaused,
  type DescriptionSource,
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
  | 'oom'
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

/** Whether DS01 describes the container after this event (its creation: see descriptionEventsFor). */
export function describesContainer(event: DockerContainerEvent): boolean {
  return baseAction(event.action) === 'create';
}

/** Docker's nanoseconds since the epoch → ISO-8601 (milliseconds). */
export function instantOfTimeNano(timeNano: string): string {
  return new Date(Number(BigInt(timeNano) / 1_000_000n)).toISOString();
}

export interface DockerEventContext {
  /** For `die`: whether the log has a ContainerOutOfMemory since the container started. */
  oomKilled?: boolean;
}

/** The identity and timing shared by every domain event derived from one Docker event. */
function observedFrom(event: DockerContainerEvent) {
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
  return { ref, occurredAt, planned };
}

/**
 * The domain events one Docker container event stands for, each with the id derived from the Docker
 * event's identity. Actions that DS01 does not record give none. Everything comes from the event itself:
 * no call to the daemon stands between a Docker event and its domain event.
 */
export function domainEventsFor(
  event: DockerContainerEvent,
  context: DockerEventContext = {},
): PlannedContainerEvent[] {
  const { ref, occurredAt, planned } = observedFrom(event);
  switch (baseAction(event.action) as RecordedAction) {
    case 'create':
      return [
        planned(
          ContainerCreated({
            ...ref,
            image: event.attributes['image'] ?? '',
            labels: labelsOfEventAttributes(event.attributes),
          }),
        ),
      ];
    case 'start':
      return [planned(ContainerStarted({ ...ref, startedAt: occurredAt }))];
    case 'oom':
      return [planned(ContainerOutOfMemory(ref))];
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

/**
 * DS01's description of a container it saw created (ContainerDescribed, then UnmanagedContainerDetected
 * when DS01 did not make it), with ids derived from the `create` event so describing twice is a no-op.
 */
export function descriptionEventsFor(
  create: DockerContainerEvent,
  description: ContainerDescription,
  describedFrom: DescriptionSource,
): PlannedContainerEvent[] {
  const { ref, planned } = observedFrom(create);
  return describedEvents(ref, description, describedFrom).map(planned);
}

/** ContainerDescribed, and UnmanagedContainerDetected for a user workload DS01 did not make. */
export function describedEvents(
  ref: ContainerRef,
  description: ContainerDescription,
  describedFrom: DescriptionSource,
): ContainerEvent[] {
  const described = ContainerDescribed({ ...ref, describedFrom, ...description });
  if (description.managed || description.infrastructure) return [described];
  return [described, unmanaged(ref, description)];
}

/** The UnmanagedContainerDetected that accompanies the description of a container DS01 did not make. */
export function unmanaged(ref: ContainerRef, description: ContainerDescription) {
  return UnmanagedContainerDetected({
    ...ref,
    owner: description.owner,
    interface: description.interface,
    type: description.type,
    image: description.image,
    gpu: description.gpu,
  });
}
