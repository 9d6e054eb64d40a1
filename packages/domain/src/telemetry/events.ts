import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { ContainerId, GpuSlotId, Instant, UserName } from '../values.ts';

/**
 * Usage windows: what a GPU device and a container did during one window (default 5 min), aligned to
 * the clock so windows of different sources line up. Streams are bounded: one per host and UTC day
 * of the window's start. Written by the samplers (telemetry), read by lifecycle and the analytics.
 * (Shared contract: /work/briefs/usage-events.md; fields change only additively and optionally.)
 */

/** `YYYY-MM-DD` of an instant, in UTC. */
function utcDay(at: string | Date): string {
  return (typeof at === 'string' ? new Date(at) : at).toISOString().slice(0, 10);
}

export const gpuUsageStream = (host: string, windowStart: string | Date) =>
  `gpu-usage-${host}-${utcDay(windowStart)}`;

export const containerUsageStream = (host: string, windowStart: string | Date) =>
  `container-usage-${host}-${utcDay(windowStart)}`;

const MeanMax = z.strictObject({ mean: z.number(), max: z.number() });
const Mean = z.strictObject({ mean: z.number() });

export const GpuUsageWindowRecorded = defineEvent({
  type: 'GpuUsageWindowRecorded',
  schema: z.strictObject({
    host: z.string().min(1),
    windowStart: Instant,
    windowEnd: Instant,
    device: z.strictObject({
      gpuIndex: z.number().int().nonnegative(),
      /** The allocation slot id: "0" for a full GPU, "0.1" for a MIG slot. */
      slot: GpuSlotId,
      uuid: z.string(),
      migProfile: z.string().nullable(),
    }),
    /** Who held it per the allocation; nulls when free. */
    holder: z.strictObject({ containerId: ContainerId.nullable(), user: UserName.nullable() }),
    samples: z.number().int().nonnegative(),
    /** Percent 0-100; null = unknown (always on MIG). */
    gpuUtilization: MeanMax.nullable(),
    /** 0-1 ratio from DCGM; null = unknown, never idle. */
    grEngineActive: MeanMax.nullable(),
    smActive: Mean.nullable(),
    dramActive: Mean.nullable(),
    memoryUsedMaxBytes: z.number().nullable(),
    powerMeanWatts: z.number().nullable(),
    /** From the GPU's energy counter; MIG slices apportioned by activity. */
    energyJoules: z.number().nullable(),
    processes: z.array(
      z.strictObject({
        pid: z.number().int(),
        containerId: ContainerId.nullable(),
        user: UserName.nullable(),
        memoryMaxBytes: z.number().nullable(),
      }),
    ),
  }),
});

export const ContainerResourceWindowRecorded = defineEvent({
  type: 'ContainerResourceWindowRecorded',
  schema: z.strictObject({
    host: z.string().min(1),
    windowStart: Instant,
    windowEnd: Instant,
    containerId: ContainerId,
    user: UserName.nullable(),
    samples: z.number().int().nonnegative(),
    cpuSeconds: z.number(),
    cpuMeanCores: z.number(),
    cpuMaxCores: z.number(),
    memoryMaxBytes: z.number(),
    memoryLimitBytes: z.number().nullable(),
    ioReadBytes: z.number(),
    ioWriteBytes: z.number(),
    pidsMax: z.number().int(),
    /** From /proc/<pid>/net/dev of the container's init pid. */
    networkRxBytes: z.number().nullable(),
    networkTxBytes: z.number().nullable(),
  }),
});

export const telemetryEvents = [GpuUsageWindowRecorded, ContainerResourceWindowRecorded] as const;
