import type { AllocateGpu } from './commands.ts';
import { denialMessage, roundGpuEquivalents } from './denials.ts';
import { type DenialReason, GpuAllocated, GpuAllocationDenied, type PoolSlot } from './events.ts';
import { expirePendingGrants } from './grants.ts';
import { inventoryChange } from './inventoryChange.ts';
import {
  containerSlots,
  evolvePool,
  type GpuPoolEvent,
  gpuEquivalentsHeldBy,
  loadByGpu,
  type PoolState,
} from './poolState.ts';
import { cheapestCost, chooseSlots, GPU_EQUIVALENT_EPSILON } from './slotSelection.ts';

/**
 * AllocateGpu → GpuAllocated (one per granted slot) or GpuAllocationDenied with a reason a person
 * can act on. Preceded by GpuPoolInventoryRecorded when the pool's devices changed since the last
 * decision, so every decision can be checked against what the pool looked like, and by the expiry
 * of pending grants past their deadline, so that a create nobody answered holds nothing it asked.
 */
export function decideAllocate(command: AllocateGpu, state: PoolState): GpuPoolEvent[] {
  const at = command.now.toISOString();
  const expired = expirePendingGrants(state, command.now);
  const recorded = [...expired, ...inventoryChange(state, command.inventory, at)];
  const outcome = grantOrDeny(command, expired.reduce(evolvePool, state));
  if ('denied' in outcome) {
    return [
      ...recorded,
      GpuAllocationDenied({
        requestId: command.requestId,
        user: command.user,
        containerId: command.containerId,
        request: command.request,
        reason: outcome.denied,
        message: denialMessage(command.user, command.request, outcome.denied),
        at,
      }),
    ];
  }
  return [
    ...recorded,
    ...outcome.granted.map(({ slot, gpuIndex, profile, gpuEquivalents, deviceId }) =>
      GpuAllocated({
        requestId: command.requestId,
        slot,
        gpuIndex,
        profile,
        gpuEquivalents,
        deviceId,
        user: command.user,
        containerId: command.containerId,
        observation: 'observed',
        since: at,
        ...(command.pendingUntil && command.containerId === null
          ? { pendingUntil: command.pendingUntil.toISOString() }
          : {}),
      }),
    ),
  ];
}

function grantOrDeny(
  command: AllocateGpu,
  state: PoolState,
): { granted: PoolSlot[] } | { denied: DenialReason } {
  const { user, request, limits, inventory } = command;
  if (command.userStatus !== 'active') {
    return { denied: { code: command.userStatus === 'departed' ? 'departed_user' : 'unknown_user' } };
  }
  if (request.profile === 'full' && !limits.allowFullGpu) return { denied: { code: 'full_gpu_not_allowed' } };
  if (request.profile !== null && !inventory.some((s) => s.profile === request.profile)) {
    const available = [...new Set(inventory.map((s) => s.profile))].sort();
    return { denied: { code: 'unknown_profile', profile: request.profile, available } };
  }

  const held = command.containerId === null ? 0 : containerSlots(state, command.containerId).length;
  const cap = limits.perContainerSlotCap;
  if (cap !== null && held + request.count > cap) {
    return { denied: { code: 'over_container_cap', held, requested: request.count, cap } };
  }

  // Slots this user may have at all: of the asked profile, and whole GPUs only where allowed.
  const eligible = inventory.filter(
    (s) =>
      (request.profile === null || s.profile === request.profile) &&
      (limits.allowFullGpu || s.profile !== 'full'),
  );
  if (eligible.length === 0) return { denied: { code: 'full_gpu_not_allowed' } };

  const heldByUser = gpuEquivalentsHeldBy(state, user);
  const limitExceeded = (cost: number) => exceededLimit(heldByUser, cost, command);
  const conceivable = cheapestCost(eligible, request.count);
  const overAlready = conceivable === null ? null : limitExceeded(conceivable);
  if (overAlready) return { denied: overAlready };

  const load = loadByGpu(state);
  const free = eligible.filter((s) => !isTaken(state, s, load));
  const budget =
    Math.min(limits.quotaGpuEquivalents ?? Infinity, limits.aggregateGpuLimit ?? Infinity) - heldByUser;
  const granted = chooseSlots(free, request.count, budget, load);
  if (granted) return { granted };
  const noFreeSlot: DenialReason = { code: 'no_free_slot', requested: request.count, free: free.length };
  if (free.length < request.count) return { denied: noFreeSlot };
  // Enough free slots, but none that fit what is left of the user's limits (or, after a MIG
  // reconfiguration, on their GPUs together).
  return { denied: limitExceeded(cheapestCost(free, request.count)!) ?? noFreeSlot };
}

function exceededLimit(held: number, cost: number, command: AllocateGpu): DenialReason | null {
  const over = (limit: number | null) => limit !== null && held + cost > limit + GPU_EQUIVALENT_EPSILON;
  const { quotaGpuEquivalents: quota, aggregateGpuLimit: groupLimit } = command.limits;
  const numbers = { held: roundGpuEquivalents(held), requested: roundGpuEquivalents(cost) };
  if (over(quota)) return { code: 'over_quota', ...numbers, limit: quota! };
  if (over(groupLimit)) return { code: 'over_group_limit', ...numbers, limit: groupLimit! };
  return null;
}

/**
 * Whether a slot can not be granted: someone holds it, or it would put more than one whole GPU's worth
 * on its physical GPU. Slot names alone are not enough once MIG is reconfigured under held slots:
 * slot "1" (GPU 1 whole) and slot "1.0" (a slice of it) are the same hardware.
 */
function isTaken(state: PoolState, slot: PoolSlot, load: ReadonlyMap<number, number>): boolean {
  if (state.holdings.has(slot.slot)) return true;
  return (load.get(slot.gpuIndex) ?? 0) + slot.gpuEquivalents > 1 + GPU_EQUIVALENT_EPSILON;
}
