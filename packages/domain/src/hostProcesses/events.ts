import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { UserName } from '../values.ts';

/** A process on the host itself (not in a container) using a GPU. */
export const HostGpuProcessDetected = defineEvent({
  type: 'HostGpuProcessDetected',
  schema: z.strictObject({
    pid: z.number().int().positive(),
    uid: z.number().int().nonnegative().nullable(),
    user: UserName.nullable(),
    gpuUuid: z.string().min(1),
    command: z.string(),
    usedMemoryMiB: z.number().nonnegative().nullable(),
  }),
});

export const hostProcessEvents = [HostGpuProcessDetected] as const;
