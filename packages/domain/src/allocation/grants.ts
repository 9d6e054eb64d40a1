import type { BindGpuGrant, ReleaseGpuGrant } from './commands.ts';
import { GrantNotPendingError } from './errors.ts';
import { GpuGrantBound, GpuGrantExpired, GpuReleased } from './events.ts';
import type { GpuPoolEvent, PendingGrant, PoolState } from './poolState.ts';

/**
 * Grants for a container that does not exist yet. The gateway must allocate before it forwards the
 * create (the body names the devices), but dockerd names the container only in its answer. So the
 * grant is recorded pending, with a deadline; the answer binds it to the container id, a refused
 * create releases it, and one nobody answered for is released at its deadline — by the hold timer,
 * or by the next allocation, whichever comes first. All on the pool stream: a bind and an expiry
 * that race are ordered by it, and the loser sees the winner's event.
 */

/** BindGpuGrant → GpuGrantBound; nothing when it is already bound to that container. */
export function decideBindGrant(command: BindGpuGrant, state: PoolState): GpuPoolEvent[] {
  const grant = state.pending.get(command.requestId);
  if (grant) {
    return [
      GpuGrantBound({
        requestId: grant.requestId,
        containerId: command.containerId,
        slots: [...grant.slots],
        at: command.now.toISOString(),
      }),
    ];
  }
  const bound = [...state.holdings.values()].filter((h) => h.requestId === command.requestId);
  if (bound.length > 0 && bound.every((h) => h.containerId === command.containerId)) return [];
  throw new GrantNotPendingError(command.requestId);
}

/** ReleaseGpuGrant → GpuReleased (create_failed) per slot; nothing when it is not pending (already settled). */
export function decideReleaseGrant(command: ReleaseGpuGrant, state: PoolState): GpuPoolEvent[] {
  const grant = state.pending.get(command.requestId);
  if (!grant) return [];
  return releaseSlots(grant, 'create_failed', command.now.toISOString());
}

/** GpuGrantExpired + GpuReleased (grant_expired) for every pending grant whose deadline is past `now`. */
export function expirePendingGrants(state: PoolState, now: Date): GpuPoolEvent[] {
  const at = now.toISOString();
  return [...state.pending.values()]
    .filter((grant) => Date.parse(grant.pendingUntil) <= now.getTime())
    .sort(
      (a, b) =>
        Date.parse(a.pendingUntil) - Date.parse(b.pendingUntil) || a.requestId.localeCompare(b.requestId),
    )
    .flatMap((grant) => [
      GpuGrantExpired({
        requestId: grant.requestId,
        user: grant.user,
        slots: [...grant.slots],
        pendingUntil: grant.pendingUntil,
        at,
      }),
      ...releaseSlots(grant, 'grant_expired', at),
    ]);
}

function releaseSlots(grant: PendingGrant, reason: 'create_failed' | 'grant_expired', at: string) {
  return grant.slots.map((slot) => GpuReleased({ slot, user: grant.user, containerId: null, reason, at }));
}
