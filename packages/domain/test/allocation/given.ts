import { compareSlots } from '../../src/allocation/poolState.ts';
import {
  GpuAllocated,
  type GpuPoolEvent,
  GpuPoolInventoryRecorded,
  gpuPoolDecider,
  type PoolSlot,
} from '../../src/index.ts';
import { DeciderSpecification } from '../../src/testing/deciderSpecification.ts';
import { containerA, mixedPool, NOW, slotOf } from './pools.ts';

export const spec = DeciderSpecification.for(gpuPoolDecider);

export const at = NOW.toISOString();

/** The pool recorded this inventory (as the first decision against it does). */
export function recorded(pool: readonly PoolSlot[] = mixedPool, when = at): GpuPoolEvent {
  return GpuPoolInventoryRecorded({
    slots: [...pool].sort((a, b) => compareSlots(a.slot, b.slot)),
    at: when,
  });
}

/** A GpuAllocated for a slot of the pool, as a decision at NOW writes it. */
export function granted(
  slot: string,
  who: { user?: string | null; containerId?: string | null; requestId?: string; since?: string } = {},
  pool: readonly PoolSlot[] = mixedPool,
): GpuPoolEvent {
  const { gpuIndex, profile, gpuEquivalents, deviceId } = slotOf(pool, slot);
  return GpuAllocated({
    requestId: who.requestId ?? 'req-1',
    slot,
    gpuIndex,
    profile,
    gpuEquivalents,
    deviceId,
    user: who.user === undefined ? 'alice' : who.user,
    containerId: who.containerId === undefined ? containerA : who.containerId,
    observation: 'observed',
    since: who.since ?? at,
  });
}
