import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { ContainerId, Instant, UserName } from '../values.ts';

/**
 * Usage windows: what the samplers saw over one window of time (default 5 minutes, aligned to the
 * clock so that windows of different sources line up), one event per GPU device or container per
 * window. Raw samples are never events. Written by the telemetry samplers; read by lifecycle (idle
 * detection) and observability. (Copied verbatim from the shared contract; the lead reconciles.)
 */

/** `gpu-usage-<host>-<YYYY-MM-DD>` of the window's start day (UTC). */
export const gpuUsageStream = (host: string, windowStart: string | Date) =>
  `gpu-usage-${host}-${dayOf(windowStart)}`;

/** `container-usage-<host>-<YYYY-MM-DD>` of the window's start day (UTC). */
export const containerUsageStream = (host: string, windowStart: string | Date) =>
  `container-usage-${host}-${dayOf(windowStart)}`;

function dayOf(instant: string | Date): string {
  return (typeof instant === 'string' ? new Date(instant) : instant).toISOString().slice(0, 10);
}

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
      /** The allocation slot id: "0" for a full GPU, "0.1"-style for a MIG slot. */
      slot: z.string().min(1),
      uuid: z.string(),
      migProfile: z.string().nullable(),
    }),
    /** Who held the device per the allocation; nulls when free. */
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
        containerId: z.string().nullable(),
        user: z.string().nullable(),
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

export const usageWindowEvents = [GpuUsageWindowRecorded, ContainerResourceWindowRecorded] as const;
