import type { EventOf } from '../events/defineEvent.ts';
import type { containerEvents } from './events.ts';

/** Any event of a container's stream (type + data), inferred from the schemas. */
export type ContainerEvent = EventOf<(typeof containerEvents)[number]>;

/**
 * A container event decided by the pure logic, ready for the store: its deterministic id and when the
 * fact happened (the metadata's occurredAt). The watcher adds actor, host and correlation.
 */
export interface PlannedContainerEvent {
  eventId: string;
  occurredAt: string;
  event: ContainerEvent;
}
