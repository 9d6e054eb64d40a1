import { GpuPoolInventoryRecorded, type PoolSlot } from './events.ts';
import { compareSlots, type GpuPoolEvent, type PoolState } from './poolState.ts';

/**
 * GpuPoolInventoryRecorded when the devices a decision is about to use differ from those the pool
 * last recorded (first decision, MIG reconfigured, a GPU gone), else nothing. Slots are kept in
 * slot order, so the same devices listed in another order are no change.
 */
export function inventoryChange(
  state: PoolState,
  inventory: readonly PoolSlot[],
  at: string,
): GpuPoolEvent[] {
  const slots = [...inventory]
    .map(({ slot, gpuIndex, profile, gpuEquivalents, deviceId }) => ({
      slot,
      gpuIndex,
      profile,
      gpuEquivalents,
      deviceId,
    }))
    .sort((a, b) => compareSlots(a.slot, b.slot));
  if (sameSlots(state.inventory, slots)) return [];
  return [GpuPoolInventoryRecorded({ slots, at })];
}

function sameSlots(a: readonly PoolSlot[], b: readonly PoolSlot[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (s, i) =>
        s.slot === b[i]!.slot &&
        s.gpuIndex === b[i]!.gpuIndex &&
        s.profile === b[i]!.profile &&
        s.gpuEquivalents === b[i]!.gpuEquivalents &&
        s.deviceId === b[i]!.deviceId,
    )
  );
}
