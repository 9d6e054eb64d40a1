import { allocatableSlots, type GpuInventory, type PoolSlot } from '@ds01/domain';
import { InventoryUnavailableError } from './errors.ts';
import type { InventorySource } from './ports.ts';

/** What packages/host's GpuSource gives (nvidia-smi or the simulated inventory of ds01.yaml). */
export interface GpuProbe {
  readonly description: string;
  probe(): Promise<{ inventory: GpuInventory }>;
}

/**
 * The pool's devices from a GPU probe, sampled at most once per `maxAgeMs`: one nvidia-smi call
 * costs 10–20 ms (seconds without persistence mode), so a decision serves the last sample.
 * Concurrent callers share one probe in flight.
 */
export function probedInventory(
  source: GpuProbe,
  options: { maxAgeMs: number; clock?: () => number },
): InventorySource {
  const clock = options.clock ?? Date.now;
  let last: { at: number; slots: PoolSlot[] } | undefined;
  let inFlight: Promise<PoolSlot[]> | undefined;
  const sample = async (): Promise<PoolSlot[]> => {
    try {
      const { inventory } = await source.probe();
      const slots = allocatableSlots(inventory);
      last = { at: clock(), slots };
      return slots;
    } catch (error) {
      throw new InventoryUnavailableError(
        `cannot read the GPU inventory from ${source.description}: ${(error as Error).message}`,
        {
          cause: error,
          hint: 'no GPU was allocated; check the gpus: section of ds01.yaml and nvidia-smi -L',
        },
      );
    } finally {
      inFlight = undefined;
    }
  };
  return {
    async current() {
      if (last && clock() - last.at < options.maxAgeMs) return last.slots;
      inFlight ??= sample();
      return inFlight;
    },
  };
}

/** A fixed list of devices (a benchmark's or a test's simulated pool). */
export function fixedInventory(slots: readonly PoolSlot[]): InventorySource {
  return { current: async () => slots };
}
