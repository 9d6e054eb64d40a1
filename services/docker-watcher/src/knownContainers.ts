import {
  type ContainerEvent,
  type ContainerState,
  containerEvents,
  evolveContainerState,
} from '@ds01/domain';
import type { EventStore } from '@ds01/event-store';

/**
 * Every container of this host the log knows, folded from the `container-` streams. Reconciliation
 * compares the daemon with this rather than with the containers read model: the watcher is the only
 * writer of these events, so the log is exact at the moment it reconciles, whereas a read model may lag
 * behind it. Other writers' events on a container's stream (the gateway's ContainerCreateAuthorized) are
 * not Docker's facts and are not folded. On a log several hosts share, a container is the host's whose
 * watcher recorded it (the host of its first event): another host's containers are not in this host's
 * `docker ps`, and must not be taken for removed.
 */
const WATCHER_EVENT_TYPES = containerEvents.map((e) => e.type);

export async function loadKnownContainers(
  store: EventStore,
  host: string,
): Promise<Map<string, ContainerState>> {
  const known = new Map<string, ContainerState>();
  const elsewhere = new Set<string>();
  for await (const recorded of store.readAll({
    filter: { streamPrefixes: ['container-'], eventTypes: WATCHER_EVENT_TYPES },
  })) {
    const event = { type: recorded.type, data: recorded.data } as ContainerEvent;
    const id = event.data.containerId;
    if (elsewhere.has(id)) continue;
    if (!known.has(id) && recorded.metadata.host !== host) {
      elsewhere.add(id);
      continue;
    }
    known.set(id, evolveContainerState(known.get(id), event, recorded.metadata.occurredAt));
  }
  return known;
}
