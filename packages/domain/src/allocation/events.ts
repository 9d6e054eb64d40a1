import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { ContainerId, GpuProfile, GpuSlotId, Observation, UserName } from '../values.ts';

/** Allocation is decided on one stream per host pool, so a slot can never be granted twice. */
export const gpuPoolStream = (host: string) => `gpu-pool-${host}`;

export const GpuAllocated = defineEvent({
  type: 'GpuAllocated',
  schema: z.strictObject({
    slot: GpuSlotId,
    profile: GpuProfile,
    /** Share of a whole GPU: 1 for a full GPU, N/7 for an `Ng` MIG profile. */
    gpuEquivalents: z.number().positive().max(1),
    user: UserName,
    containerId: ContainerId.nullable(),
    observation: Observation,
  }),
});

export const GpuReleased = defineEvent({
  type: 'GpuReleased',
  schema: z.strictObject({
    slot: GpuSlotId,
    user: UserName,
    containerId: ContainerId.nullable(),
    reason: z.string().min(1),
  }),
});

export const allocationEvents = [GpuAllocated, GpuReleased] as const;
