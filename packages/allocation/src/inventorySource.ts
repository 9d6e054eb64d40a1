import { allocatableSlots, type GpuInventory, type PoolSlot } from '@ds01/domain';
import { InventoryUnavailableError } from './errors.ts';
import type { InventorySource } from './ports.ts';

/**
 * The pool's devices from wherever the host's GPU inventory is kept: the gpu-sampler's last sample
 * in ds01d, the last GpuInventoryObserved of the log in the CLI. A decision never calls nvidia-smi
 * itself (10–20 ms a call, seconds without persistence mode). No inventory, or one that cannot be
 * read, is an error: no GPU is granted against a guessed pool.
 */
export function inventoryFrom(
  read: () => Promise<GpuInventory | null>,
  description: string,
): InventorySource {
  return {
    async current() {
      let inventory: GpuInventory | null;
      try {
        inventory = await read();
      } catch (error) {
        throw new InventoryUnavailableError(
          `cannot read the GPU inventory from ${description}: ${(error as Error).message}`,
          {
            cause: error,
            hint: 'no GPU was allocated; check the gpus: section of ds01.yaml and nvidia-smi -L',
          },
        );
      }
      if (!inventory) {
        throw new InventoryUnavailableError(`no GPU inventory yet from ${description}`, {
          hint: 'start ds01d (its gpu-sampler records the GPUs), or configure gpus: in ds01.yaml',
        });
      }
      const slots = allocatableSlots(inventory);
      if (slots.length === 0) {
        throw new InventoryUnavailableError(
          `the GPU inventory from ${description} has no device to allocate`,
          {
            hint:
              inventory.source === 'simulated'
                ? 'list the GPUs this host pretends to have under gpus.simulated in ds01.yaml'
                : 'a GPU in MIG mode needs MIG instances (nvidia-smi mig -cgi ... -C), or MIG switched off',
          },
        );
      }
      return slots;
    },
  };
}

/** A fixed list of devices (a benchmark's or a test's simulated pool). */
export function fixedInventory(slots: readonly PoolSlot[]): InventorySource {
  return { current: async () => slots };
}
