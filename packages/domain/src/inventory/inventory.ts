import { z } from 'zod';
import { GpuSlotId } from '../values.ts';

/**
 * What GPUs a host has, as allocation sees them. Built from nvidia-smi (packages/host) or, on a
 * machine without GPUs, from the simulated inventory in ds01.yaml. Slot names are ds01-infra's:
 * a full GPU by its index ("2"), a MIG slot as "<gpu>.<device index in nvidia-smi -L>" ("1.2").
 */
export const MigSlotSchema = z.strictObject({
  slot: GpuSlotId,
  gpuIndex: z.number().int().nonnegative(),
  /** "Device N" of `nvidia-smi -L`. */
  migDevice: z.number().int().nonnegative(),
  /** e.g. "3g.40gb"; "1c.3g.71gb" for one compute instance of a shared GPU instance. */
  profile: z.string().min(1),
  /** MIG-… UUID (absent in a simulated inventory or when -L did not give one). */
  uuid: z.string().min(1).nullable(),
  gpuInstanceId: z.number().int().nonnegative().nullable(),
  computeInstanceId: z.number().int().nonnegative().nullable(),
  memoryMiB: z.number().nonnegative().nullable(),
});
export type MigSlot = z.infer<typeof MigSlotSchema>;

export const PhysicalGpuSchema = z.strictObject({
  index: z.number().int().nonnegative(),
  uuid: z.string().min(1),
  name: z.string().min(1),
  memoryMiB: z.number().nonnegative().nullable(),
  migEnabled: z.boolean(),
  migSlots: z.array(MigSlotSchema),
});
export type PhysicalGpu = z.infer<typeof PhysicalGpuSchema>;

export const GpuInventorySchema = z.strictObject({
  source: z.enum(['nvidia-smi', 'simulated']),
  gpus: z.array(PhysicalGpuSchema),
});
export type GpuInventory = z.infer<typeof GpuInventorySchema>;

/** A device that can be handed to one container: a whole GPU (MIG off) or one MIG slot. */
export interface AllocatableSlot {
  slot: string;
  gpuIndex: number;
  /** "full" for a whole GPU, else the MIG profile. */
  profile: string;
  gpuEquivalents: number;
  /** The id Docker's DeviceRequests take: GPU-… or MIG-… UUID, or the index when unknown. */
  deviceId: string;
}

/** MIG splits a GPU's compute into 7 slices on the A100 and H100 (ds01-infra: MIG_COMPUTE_SLICES_PER_GPU). */
export const MIG_COMPUTE_SLICES_PER_GPU = 7;

/**
 * Share of a whole GPU a profile gives: 1 for "full", N/7 for an "Ng…" profile. For a compute
 * instance of a shared GPU instance ("1c.3g.71gb"), the compute slices ("1c") count.
 */
export function gpuEquivalentsOf(profile: string): number {
  if (profile === 'full') return 1;
  const computeInstance = /^(\d+)c\.\d+g\./i.exec(profile);
  const slices = computeInstance ? computeInstance[1] : /^\s*(\d+)g/i.exec(profile)?.[1];
  if (!slices) throw new Error(`'${profile}' is not a MIG profile (expected e.g. "3g.40gb")`);
  return Number(slices) / MIG_COMPUTE_SLICES_PER_GPU;
}

/** Every device of the inventory that allocation can grant, in slot order. */
export function allocatableSlots(inventory: GpuInventory): AllocatableSlot[] {
  return inventory.gpus.flatMap((gpu): AllocatableSlot[] =>
    gpu.migEnabled
      ? gpu.migSlots.map((mig) => ({
          slot: mig.slot,
          gpuIndex: gpu.index,
          profile: mig.profile,
          gpuEquivalents: gpuEquivalentsOf(mig.profile),
          deviceId: mig.uuid ?? mig.slot,
        }))
      : [
          {
            slot: String(gpu.index),
            gpuIndex: gpu.index,
            profile: 'full',
            gpuEquivalents: 1,
            deviceId: gpu.uuid,
          },
        ],
  );
}
