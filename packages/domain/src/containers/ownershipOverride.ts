import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { ContainerId } from '../values.ts';
import { Attribution } from './attribution.ts';
import { type ContainerState, containerOwner } from './containerState.ts';
import { ownershipSummary } from './ownership.ts';

/** Where an admin's override of an ownership check is recorded, before the action it allows. */
export const ownershipOverridesStream = 'ownership-overrides';

/**
 * An admin did something for a user with a container DS01 does not hold to be theirs (`ds01 gpu
 * allocate --force`): recorded first, with what DS01 knew of the owner, and the action it allowed
 * names this event as its cause. The actor of the event is the admin.
 */
export const OwnershipOverridden = defineEvent({
  type: 'OwnershipOverridden',
  schema: z.strictObject({
    containerId: ContainerId,
    action: z.enum(['gpu-allocate']),
    /** For whom the action was taken. */
    user: z.string().min(1),
    /** The container's owner as DS01 had it; null: not described. */
    owner: Attribution.nullable(),
    /** Why the check refused it. */
    reason: z.string(),
  }),
});

export const ownershipEvents = [OwnershipOverridden] as const;

/**
 * Whether `user` may have something done with this container on their behalf (GPUs granted for it):
 * the log must know the container, it must exist, and its owner (the verified one where the gateway
 * recorded it, else the claim: an admin's command naming the user is the confirmation a claim needs)
 * must be that user. Pure: the state is the container's stream folded.
 */
export function containerUseRefusal(state: ContainerState | undefined, user: string): string | undefined {
  if (!state) return 'is not a container DS01 has seen (no events on its stream)';
  if (state.status === 'removed') return 'was removed';
  const owner = containerOwner(state);
  if (!owner) return 'has not been described yet, so its owner is not known';
  if (owner.user !== user) {
    return `belongs to ${owner.user ?? 'nobody DS01 could name'} (${ownershipSummary(owner)}), not to ${user}`;
  }
  return undefined;
}
