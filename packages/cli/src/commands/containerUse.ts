import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import {
  type ContainerState,
  type ContainerStreamEvent,
  containerOwner,
  containerStream,
  containerStreamEventTypes,
  containerUseRefusal,
  evolveContainerState,
  OwnershipOverridden,
  ownershipOverridesStream,
} from '@ds01/domain';
import type { EventStore } from '@ds01/event-store';
import { isAdmin } from '../admin.ts';
import { CliError } from '../errors.ts';

const CONTAINER_EVENT_TYPES: ReadonlySet<string> = new Set(containerStreamEventTypes);
const FULL_ID = /^[0-9a-f]{64}$/;

/**
 * Checks that `--container` names a container the log knows, owned by `user` (containerUseRefusal).
 * Refused unless `force` by an admin (root): then the override is recorded first, and its event id
 * returned, for the action it allows to name as its cause. An id that is not 64 hex digits is left
 * to the allocator, which refuses it with its own message.
 */
export async function authorizeContainerUse(
  store: EventStore,
  options: { containerId: string; user: string; force: boolean; host: string },
): Promise<string | undefined> {
  const { containerId, user } = options;
  if (!FULL_ID.test(containerId)) return undefined;
  let state: ContainerState | undefined;
  for await (const event of store.readStream(containerStream(containerId))) {
    if (!CONTAINER_EVENT_TYPES.has(event.type)) continue;
    const domainEvent = { type: event.type, data: event.data } as ContainerStreamEvent;
    state = evolveContainerState(state, domainEvent, event.metadata.occurredAt);
  }
  const refusal = containerUseRefusal(state, user);
  if (!refusal) return undefined;
  const short = containerId.slice(0, 12);
  if (!options.force) {
    throw new CliError(`container ${short} ${refusal}: no GPU was allocated`, {
      hint: `give a container of ${user}'s (ds01 containers --user ${user}); an admin may allocate anyway with --force, which is recorded`,
    });
  }
  if (!isAdmin()) {
    throw new CliError(`container ${short} ${refusal}; --force is for admins`, {
      hint: 'run it as root (sudo ds01 gpu allocate ... --force): the override is recorded as theirs',
    });
  }
  const eventId = randomUUID();
  await store.append(ownershipOverridesStream, [
    {
      ...OwnershipOverridden({
        containerId,
        action: 'gpu-allocate',
        user,
        owner: state ? containerOwner(state) : null,
        reason: refusal,
      }),
      metadata: {
        eventId,
        occurredAt: new Date().toISOString(),
        actor: { kind: 'user', name: userInfo().username },
        host: options.host,
        correlationId: eventId,
        causationId: null,
      },
    },
  ]);
  return eventId;
}
