import { z } from 'zod';
import { ContainerId, GpuSlotId, UserName } from '../values.ts';
import { GpuRequestSchema, PoolSlotSchema } from './events.ts';

/**
 * Commands of the GPU pool. Everything a decision depends on comes in with the command (the user's
 * limits, whether they are still in the lab, the pool's devices, the time), so the decider stays pure;
 * services/allocator loads these and the pool's history from its stream `gpu-pool-<host>`.
 */

/** The user's GPU limits from resource-limits.yaml (ds01-infra's keys); null means unlimited. */
export const AllocationLimitsSchema = z.strictObject({
  /** max_gpu_equivalents: total GPU-equivalents the user may hold at once. */
  quotaGpuEquivalents: z.number().nonnegative().nullable(),
  /** max_gpu_slots_per_container: devices one container may hold. */
  perContainerSlotCap: z.number().int().nonnegative().nullable(),
  /** allow_full_gpu: whether a whole GPU may be granted. */
  allowFullGpu: z.boolean(),
  /** gpu_hold_after_stop_h: how long a stopped container keeps its GPUs (null: until removed). */
  holdAfterStopHours: z.number().nonnegative().nullable(),
  /** The group's aggregate gpu_limit (per user, GPU-equivalents); null when the group has none. */
  aggregateGpuLimit: z.number().nonnegative().nullable(),
});
export type AllocationLimits = z.infer<typeof AllocationLimitsSchema>;

/** Whether the user may get GPUs at all: a known account, one that left, or nobody DS01 knows. */
export const UserStatusSchema = z.enum(['active', 'departed', 'unknown']);
export type UserStatus = z.infer<typeof UserStatusSchema>;

export const AllocateGpuSchema = z.strictObject({
  type: z.literal('AllocateGpu'),
  /** Names the request in its events (one id for every slot of a multi-slot grant). */
  requestId: z.string().min(1),
  user: UserName,
  request: GpuRequestSchema,
  containerId: ContainerId.nullable(),
  /**
   * For a container not created yet (containerId null): the grant waits for GpuGrantBound until
   * then, and is released after.
   */
  pendingUntil: z.date().optional(),
  limits: AllocationLimitsSchema,
  userStatus: UserStatusSchema,
  /** The pool's devices now (from nvidia-smi or the simulated inventory). */
  inventory: z.array(PoolSlotSchema),
  now: z.date(),
});
export type AllocateGpu = z.infer<typeof AllocateGpuSchema>;

export const ReleaseTargetSchema = z.union([
  z.strictObject({ containerId: ContainerId }),
  z.strictObject({ slot: GpuSlotId }),
]);
export type ReleaseTarget = z.infer<typeof ReleaseTargetSchema>;

export const ReleaseGpuSchema = z.strictObject({
  type: z.literal('ReleaseGpu'),
  target: ReleaseTargetSchema,
  reason: z.enum(['requested', 'container_removed', 'retired']),
  /**
   * What to do when nothing is held: 'fail' (a person asked: tell them) or 'ignore' (a process
   * manager replaying a removal that was already handled).
   */
  ifNothingHeld: z.enum(['fail', 'ignore']),
  now: z.date(),
});
export type ReleaseGpu = z.infer<typeof ReleaseGpuSchema>;

/** The container stopped: keep its GPUs for the owner's gpu_hold_after_stop_h, then release them. */
export const StartGpuHoldSchema = z.strictObject({
  type: z.literal('StartGpuHold'),
  containerId: ContainerId,
  stoppedAt: z.date(),
  holdAfterStopHours: z.number().nonnegative().nullable(),
  now: z.date(),
});
export type StartGpuHold = z.infer<typeof StartGpuHoldSchema>;

/** The container started again: a hold that has not run out ends, and it keeps its GPUs. */
export const EndGpuHoldSchema = z.strictObject({
  type: z.literal('EndGpuHold'),
  containerId: ContainerId,
  startedAt: z.date(),
  now: z.date(),
});
export type EndGpuHold = z.infer<typeof EndGpuHoldSchema>;

/** When a container last started, as its own stream (the docker watcher) records it. */
export const ContainerStartSchema = z.strictObject({
  containerId: ContainerId,
  startedAt: z.date(),
});
export type ContainerStart = z.infer<typeof ContainerStartSchema>;

/**
 * Issued by a timer: releases the GPUs of every hold that has run out by `now` (and of every pending
 * grant not bound by its deadline), except a hold whose
 * container started again before it ran out (`lastStarts`): that one ends, whichever of the start
 * and the timer reached the pool first (after a restart the timer may run before the start is read).
 */
export const ExpireGpuHoldsSchema = z.strictObject({
  type: z.literal('ExpireGpuHolds'),
  now: z.date(),
  /** The last start of containers on hold, from their streams; absent: none known. */
  lastStarts: z.array(ContainerStartSchema).optional(),
});
export type ExpireGpuHolds = z.infer<typeof ExpireGpuHoldsSchema>;

/** A container ds01-infra made, as the switch-over finds it on the host. */
export const ExistingGpuContainerSchema = z.strictObject({
  containerId: ContainerId,
  name: z.string(),
  /** The owner from its labels or name; null when none could be resolved. */
  user: UserName.nullable(),
  /** Device ids (GPU-…/MIG-… UUIDs or indexes) or ds01-infra slot names ("1.2") it holds. */
  devices: z.array(z.string().min(1)),
  /** When ds01-infra granted them (label ds01.gpu.allocated_at, else the container's creation). */
  since: z.date(),
  /** When it stopped, for a stopped container (its GPUs are then on hold); null when running or created. */
  stoppedAt: z.date().nullable(),
  holdAfterStopHours: z.number().nonnegative().nullable(),
});
export type ExistingGpuContainer = z.infer<typeof ExistingGpuContainerSchema>;

/** Switch-over: record what ds01-infra's containers hold, once, before the pool decides anything. */
export const ReconcileGpuPoolSchema = z.strictObject({
  type: z.literal('ReconcileGpuPool'),
  /** Earliest claim first: when two containers claim one slot, the first keeps it. */
  containers: z.array(ExistingGpuContainerSchema),
  inventory: z.array(PoolSlotSchema),
  now: z.date(),
});
export type ReconcileGpuPool = z.infer<typeof ReconcileGpuPoolSchema>;

/**
 * Records the devices the pool has now (at start and when the GPUs change), so that the pool shows
 * its free slots before anyone asks for one. Decisions record it too when it changed.
 */
export const RecordPoolInventorySchema = z.strictObject({
  type: z.literal('RecordPoolInventory'),
  inventory: z.array(PoolSlotSchema),
  now: z.date(),
});
export type RecordPoolInventory = z.infer<typeof RecordPoolInventorySchema>;

/** dockerd created the container a pending grant was for: bind the grant's slots to it. */
export const BindGpuGrantSchema = z.strictObject({
  type: z.literal('BindGpuGrant'),
  requestId: z.string().min(1),
  containerId: ContainerId,
  now: z.date(),
});
export type BindGpuGrant = z.infer<typeof BindGpuGrantSchema>;

/** dockerd refused the create (or the gateway gave up on it): release the pending grant's slots. */
export const ReleaseGpuGrantSchema = z.strictObject({
  type: z.literal('ReleaseGpuGrant'),
  requestId: z.string().min(1),
  now: z.date(),
});
export type ReleaseGpuGrant = z.infer<typeof ReleaseGpuGrantSchema>;

export type GpuPoolCommand =
  | RecordPoolInventory
  | AllocateGpu
  | ReleaseGpu
  | StartGpuHold
  | EndGpuHold
  | ExpireGpuHolds
  | ReconcileGpuPool
  | BindGpuGrant
  | ReleaseGpuGrant;
