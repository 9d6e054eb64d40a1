import { eventIdFor } from '@ds01/event-store';
import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { ContainerId, GpuSlotId, Instant, UserName } from '../values.ts';

/**
 * Usage windows: what the samplers measured, aggregated per device or container per clock-aligned
 * window (default 5 min), so the log holds one event per device per window and never one per sample.
 * This is the contract of /work/briefs/usage-events.md: lifecycle and observability read these names
 * and fields; changes are additive and optional only.
 *
 * Streams are bounded per host and UTC day (the window's start day), so no stream grows without end.
 */

/** The UTC day (YYYY-MM-DD) of an instant. */
function utcDay(at: string | Date): string {
  const date = typeof at === 'string' ? new Date(at) : at;
  return date.toISOString().slice(0, 10);
}

/** `gpu-usage-<host>-<YYYY-MM-DD>` of the window's start day. */
export const gpuUsageStream = (host: string, windowStart: string | Date) =>
  `gpu-usage-${host}-${utcDay(windowStart)}`;

/** `container-usage-<host>-<YYYY-MM-DD>` of the window's start day. */
export const containerUsageStream = (host: string, windowStart: string | Date) =>
  `container-usage-${host}-${utcDay(windowStart)}`;

/** `user-usage-<host>-<YYYY-MM-DD>`: the windows of ds01-infra's per-user cgroup slices. */
export const userSliceUsageStream = (host: string, windowStart: string | Date) =>
  `user-usage-${host}-${utcDay(windowStart)}`;

/** Stream prefixes, for subscribers that read every day's windows. */
export const gpuUsageStreamPrefix = 'gpu-usage-';
export const containerUsageStreamPrefix = 'container-usage-';
export const userSliceUsageStreamPrefix = 'user-usage-';

/**
 * A window is appended once: its event id is derived from host, device and window start, so a sampler
 * that re-appends a window after a crash is a no-op in the store.
 */
export const gpuUsageWindowEventId = (host: string, slot: string, windowStart: string) =>
  eventIdFor(new Date(windowStart), `gpu-usage|${host}|${slot}|${windowStart}`);

export const containerUsageWindowEventId = (host: string, containerId: string, windowStart: string) =>
  eventIdFor(new Date(windowStart), `container-usage|${host}|${containerId}|${windowStart}`);

export const userSliceUsageWindowEventId = (host: string, slice: string, windowStart: string) =>
  eventIdFor(new Date(windowStart), `user-usage|${host}|${slice}|${windowStart}`);

const Fraction = z.number().min(0).max(1);
const Percent = z.number().min(0).max(100);
const NonNegative = z.number().nonnegative();

/** The device a GPU window is about: a whole GPU ("0") or a MIG slot ("0.1"), as allocation names it. */
export const UsageDeviceSchema = z.strictObject({
  gpuIndex: z.number().int().nonnegative(),
  slot: GpuSlotId,
  /** GPU-… UUID of a whole GPU, MIG-… UUID of a slot (the slot name when none is known). */
  uuid: z.string().min(1),
  /** null for a whole GPU. */
  migProfile: z.string().min(1).nullable(),
});
export type UsageDevice = z.infer<typeof UsageDeviceSchema>;

/** Who held the device per the allocation during the window (the holder at the window's end); null if free. */
export const UsageHolderSchema = z.strictObject({
  containerId: ContainerId.nullable(),
  user: UserName.nullable(),
});
export type UsageHolder = z.infer<typeof UsageHolderSchema>;

export const UsageProcessSchema = z.strictObject({
  pid: z.number().int().positive(),
  containerId: ContainerId.nullable(),
  user: UserName.nullable(),
  memoryMaxBytes: NonNegative.nullable(),
});
export type UsageProcess = z.infer<typeof UsageProcessSchema>;

/**
 * One GPU device or MIG slot over one window. Every measure is null when no sample had it: unknown,
 * never idle (nvidia-smi has no utilisation on a MIG slot; GR_ENGINE_ACTIVE needs dcgm-exporter).
 */
export const GpuUsageWindowRecorded = defineEvent({
  type: 'GpuUsageWindowRecorded',
  schema: z.strictObject({
    host: z.string().min(1),
    windowStart: Instant,
    windowEnd: Instant,
    device: UsageDeviceSchema,
    holder: UsageHolderSchema,
    /** How many samples the window aggregates. */
    samples: z.number().int().nonnegative(),
    /** nvidia-smi's utilization.gpu, percent; null on MIG (never reported there). */
    gpuUtilization: z.strictObject({ mean: Percent, max: Percent }).nullable(),
    /** DCGM_FI_PROF_GR_ENGINE_ACTIVE, 0-1. */
    grEngineActive: z.strictObject({ mean: Fraction, max: Fraction }).nullable(),
    /** DCGM_FI_PROF_SM_ACTIVE, 0-1. */
    smActive: z.strictObject({ mean: Fraction }).nullable(),
    /** DCGM_FI_PROF_DRAM_ACTIVE, 0-1. */
    dramActive: z.strictObject({ mean: Fraction }).nullable(),
    memoryUsedMaxBytes: NonNegative.nullable(),
    powerMeanWatts: NonNegative.nullable(),
    /** From the GPU's energy counter over the window; MIG slices share it, apportioned by activity. */
    energyJoules: NonNegative.nullable(),
    processes: z.array(UsageProcessSchema),
  }),
});

/** One container over one window, from its cgroup and its init process's network namespace. */
export const ContainerResourceWindowRecorded = defineEvent({
  type: 'ContainerResourceWindowRecorded',
  schema: z.strictObject({
    host: z.string().min(1),
    windowStart: Instant,
    windowEnd: Instant,
    containerId: ContainerId,
    user: UserName.nullable(),
    samples: z.number().int().nonnegative(),
    /** CPU time used during the window. */
    cpuSeconds: NonNegative,
    cpuMeanCores: NonNegative,
    cpuMaxCores: NonNegative,
    memoryMaxBytes: NonNegative,
    /** null: no limit. */
    memoryLimitBytes: NonNegative.nullable(),
    ioReadBytes: NonNegative,
    ioWriteBytes: NonNegative,
    pidsMax: z.number().int().nonnegative(),
    /** From /proc/<init pid>/net/dev; null when the container's netns could not be read. */
    networkRxBytes: NonNegative.nullable(),
    networkTxBytes: NonNegative.nullable(),
  }),
});

/**
 * One user slice (`ds01-<group>-<user>.slice`, where ds01 puts a user's containers) over one window:
 * everything the user's containers used together, against the slice's own limit.
 */
export const UserSliceResourceWindowRecorded = defineEvent({
  type: 'UserSliceResourceWindowRecorded',
  schema: z.strictObject({
    host: z.string().min(1),
    windowStart: Instant,
    windowEnd: Instant,
    /** The slice's name, as ds01-infra makes it from the group and the sanitised username. */
    slice: z.string().regex(/^ds01-.+\.slice$/, 'must be a ds01 user slice name (ds01-<group>-<user>.slice)'),
    /** Its path in the cgroup hierarchy. */
    path: z.string().min(1),
    samples: z.number().int().nonnegative(),
    cpuSeconds: NonNegative,
    cpuMeanCores: NonNegative,
    cpuMaxCores: NonNegative,
    memoryMaxBytes: NonNegative,
    memoryLimitBytes: NonNegative.nullable(),
    ioReadBytes: NonNegative,
    ioWriteBytes: NonNegative,
    pidsMax: z.number().int().nonnegative(),
  }),
});

export const usageWindowEvents = [
  GpuUsageWindowRecorded,
  ContainerResourceWindowRecorded,
  UserSliceResourceWindowRecorded,
] as const;
