import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { GpuSlotId, Instant } from '../values.ts';
import { GpuInventorySchema, MigSlotSchema, PhysicalGpuSchema } from './inventory.ts';

/**
 * What a host's GPUs are, as the gpu-sampler saw them: one stream per host. An inventory is appended
 * when it first appears and whenever it differs from the last one (never once per probe), so the
 * stream's last GpuInventoryObserved is the host's inventory now.
 */
export const gpuInventoryStream = (host: string) => `gpu-inventory-${host}`;

/** The whole inventory: the first one seen, and each one that differs from the one before. */
export const GpuInventoryObserved = defineEvent({
  type: 'GpuInventoryObserved',
  schema: z.strictObject({
    inventory: GpuInventorySchema,
    at: Instant,
  }),
});

/**
 * A GPU that was not there before (matched by UUID). `movedFrom`: it was there under another index
 * (GPUs are renumbered when one before it is lost), so its old slots are gone (see GpuLost).
 */
export const GpuAppeared = defineEvent({
  type: 'GpuAppeared',
  schema: z.strictObject({
    gpu: PhysicalGpuSchema,
    movedFrom: z.number().int().nonnegative().nullable(),
    at: Instant,
  }),
});

/** A GPU no longer there (fallen off the bus, removed), with every slot it had; `movedTo`: renumbered. */
export const GpuLost = defineEvent({
  type: 'GpuLost',
  schema: z.strictObject({
    gpu: PhysicalGpuSchema,
    movedTo: z.number().int().nonnegative().nullable(),
    at: Instant,
  }),
});

const MigLayoutSchema = z.strictObject({
  migEnabled: z.boolean(),
  slots: z.array(MigSlotSchema),
});

/**
 * MIG was switched on or off on a GPU, or its instances were made anew. `removedSlots` no longer
 * name the device they named (gone, or now another profile or UUID); `addedSlots` are new devices.
 * A slot name can be in both: "2.0" was a 3g.40gb and is now a 1g.10gb.
 */
export const MigLayoutChanged = defineEvent({
  type: 'MigLayoutChanged',
  schema: z.strictObject({
    gpuIndex: z.number().int().nonnegative(),
    uuid: z.string().min(1),
    before: MigLayoutSchema,
    after: MigLayoutSchema,
    removedSlots: z.array(GpuSlotId),
    addedSlots: z.array(GpuSlotId),
    at: Instant,
  }),
});

/** Why a probe found no inventory: nvidia-smi timed out, failed, or printed what cannot be read. */
export const GpuProbeFailureReason = z.enum([
  'timeout',
  'exit-code',
  'not-found',
  'signal',
  'spawn',
  'garbled',
  'inconsistent',
]);
export type GpuProbeFailureReason = z.infer<typeof GpuProbeFailureReason>;

export const GpuProbeFailureSchema = z.strictObject({
  /** As a person would type it: "nvidia-smi -q -x". */
  command: z.string().min(1),
  reason: GpuProbeFailureReason,
  message: z.string().min(1),
  exitCode: z.number().int().nullable(),
});
export type GpuProbeFailure = z.infer<typeof GpuProbeFailureSchema>;

/**
 * Probing the GPUs started failing. Appended once when failures begin, not once per probe; the
 * inventory stays what it last was until a probe succeeds (GpuProbeRecovered).
 */
export const GpuProbeFailed = defineEvent({
  type: 'GpuProbeFailed',
  schema: GpuProbeFailureSchema.extend({ at: Instant }),
});

/** Probing the GPUs works again after failing since `failedSince`. */
export const GpuProbeRecovered = defineEvent({
  type: 'GpuProbeRecovered',
  schema: z.strictObject({
    failedSince: Instant,
    at: Instant,
  }),
});

export const inventoryEvents = [
  GpuInventoryObserved,
  GpuAppeared,
  GpuLost,
  MigLayoutChanged,
  GpuProbeFailed,
  GpuProbeRecovered,
] as const;
