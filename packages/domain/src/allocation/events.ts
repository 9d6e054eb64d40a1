import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { ContainerId, GpuProfile, GpuSlotId, Instant, Observation, UserName } from '../values.ts';

/** Allocation is decided on one stream per host pool, so a slot can never be granted twice. */
export const gpuPoolStream = (host: string) => `gpu-pool-${host}`;

/** One device of the pool as it was when a decision was taken (a whole GPU or a MIG slot). */
export const PoolSlotSchema = z.strictObject({
  slot: GpuSlotId,
  gpuIndex: z.number().int().nonnegative(),
  /** "full" for a whole GPU, else the MIG profile. */
  profile: GpuProfile,
  gpuEquivalents: z.number().positive().max(1),
  /** What Docker's DeviceRequests take: the GPU-…/MIG-… UUID, or the index when unknown. */
  deviceId: z.string().min(1),
});
export type PoolSlot = z.infer<typeof PoolSlotSchema>;

/** What a person asked for: `count` devices of one profile, or of any profile when it is null. */
export const GpuRequestSchema = z.strictObject({
  count: z.number().int().positive(),
  profile: GpuProfile.nullable(),
});
export type GpuRequest = z.infer<typeof GpuRequestSchema>;

/**
 * Why an allocation was refused, in a form a program can read; `message` on the event says the same
 * to a person, with what to do next. GPU-equivalents are rounded to two decimals.
 */
export const DenialReasonSchema = z.discriminatedUnion('code', [
  z.strictObject({ code: z.literal('unknown_user') }),
  z.strictObject({ code: z.literal('departed_user') }),
  z.strictObject({ code: z.literal('full_gpu_not_allowed') }),
  z.strictObject({
    code: z.literal('unknown_profile'),
    profile: z.string(),
    /** The profiles this host's pool has. */
    available: z.array(z.string()),
  }),
  z.strictObject({
    code: z.literal('over_container_cap'),
    /** Slots the container already holds. */
    held: z.number().int().nonnegative(),
    requested: z.number().int().positive(),
    cap: z.number().int().nonnegative(),
  }),
  z.strictObject({
    /** max_gpu_equivalents (quota) or the group's aggregate gpu_limit. */
    code: z.enum(['over_quota', 'over_group_limit']),
    held: z.number().nonnegative(),
    /** The least this request could cost. */
    requested: z.number().positive(),
    limit: z.number().nonnegative(),
  }),
  z.strictObject({
    code: z.literal('no_free_slot'),
    requested: z.number().int().positive(),
    /** Free slots the user could have been given (of the requested profile, if any). */
    free: z.number().int().nonnegative(),
  }),
]);
export type DenialReason = z.infer<typeof DenialReasonSchema>;

/** The pool's devices changed (first decision, MIG reconfigured, a GPU lost): recorded before deciding. */
export const GpuPoolInventoryRecorded = defineEvent({
  type: 'GpuPoolInventoryRecorded',
  schema: z.strictObject({
    slots: z.array(PoolSlotSchema),
    at: Instant,
  }),
});

export const GpuAllocated = defineEvent({
  type: 'GpuAllocated',
  schema: z.strictObject({
    /** The request this slot answers (a multi-slot grant appends one event per slot, same id). */
    requestId: z.string().min(1),
    slot: GpuSlotId,
    gpuIndex: z.number().int().nonnegative(),
    profile: GpuProfile,
    /** Share of a whole GPU: 1 for a full GPU, N/7 for an `Ng` MIG profile. */
    gpuEquivalents: z.number().positive().max(1),
    deviceId: z.string().min(1),
    /** null only for a reconciled allocation whose container names no owner DS01 could resolve. */
    user: UserName.nullable(),
    containerId: ContainerId.nullable(),
    observation: Observation,
    /** Since when the slot is held: the decision's time, or (reconciled) when ds01-infra granted it. */
    since: Instant,
    /**
     * A grant for a container that does not exist yet (the gateway allocates before dockerd answers
     * the create; containerId is null): GpuGrantBound names the container, and a grant not bound by
     * this time is released (GpuGrantExpired), so a create that never answered leaks nothing.
     */
    pendingUntil: Instant.optional(),
  }),
});

export const GpuAllocationDenied = defineEvent({
  type: 'GpuAllocationDenied',
  schema: z.strictObject({
    requestId: z.string().min(1),
    user: UserName,
    containerId: ContainerId.nullable(),
    request: GpuRequestSchema,
    reason: DenialReasonSchema,
    message: z.string().min(1),
    at: Instant,
  }),
});

export const GpuReleaseReason = z.enum([
  'requested',
  'hold_expired',
  'container_removed',
  /** A pending grant nobody bound in time (GpuGrantExpired precedes). */
  'grant_expired',
  /** dockerd refused the create the grant was for. */
  'create_failed',
  /** Its owner retired the container (`ds01 container retire`): released at once, no hold. */
  'retired',
]);
export type GpuReleaseReason = z.infer<typeof GpuReleaseReason>;

export const GpuReleased = defineEvent({
  type: 'GpuReleased',
  schema: z.strictObject({
    slot: GpuSlotId,
    user: UserName.nullable(),
    containerId: ContainerId.nullable(),
    reason: GpuReleaseReason,
    at: Instant,
  }),
});

/** A stopped container keeps its GPUs until expiresAt (null: its owner's hold is indefinite). */
export const GpuHoldStarted = defineEvent({
  type: 'GpuHoldStarted',
  schema: z.strictObject({
    containerId: ContainerId,
    user: UserName.nullable(),
    slots: z.array(GpuSlotId).min(1),
    stoppedAt: Instant,
    expiresAt: Instant.nullable(),
  }),
});

/** The container was started again within its hold: it keeps its GPUs. */
export const GpuHoldEnded = defineEvent({
  type: 'GpuHoldEnded',
  schema: z.strictObject({ containerId: ContainerId, at: Instant }),
});

/** The hold ran out; GpuReleased events for its slots follow in the same append. */
export const GpuHoldExpired = defineEvent({
  type: 'GpuHoldExpired',
  schema: z.strictObject({ containerId: ContainerId, expiresAt: Instant, at: Instant }),
});

/**
 * Something found at switch-over that a person must look at: a device no slot of the pool has, a slot
 * two containers claim (ds01-infra could grant one twice), or a container with GPUs and no owner.
 */
export const GpuReconciliationProblem = defineEvent({
  type: 'GpuReconciliationProblem',
  schema: z.strictObject({
    containerId: ContainerId,
    containerName: z.string(),
    user: UserName.nullable(),
    problem: z.enum(['unknown_device', 'slot_held_by_other_container', 'unknown_owner']),
    deviceId: z.string().nullable(),
    slot: GpuSlotId.nullable(),
    detail: z.string().min(1),
    at: Instant,
  }),
});

/** The pool took over what ds01-infra's containers held: done once per host. */
export const GpuPoolReconciled = defineEvent({
  type: 'GpuPoolReconciled',
  schema: z.strictObject({
    source: z.literal('ds01-infra'),
    containersSeen: z.number().int().nonnegative(),
    slotsRecorded: z.number().int().nonnegative(),
    problems: z.number().int().nonnegative(),
    at: Instant,
  }),
});

/** dockerd created the container a pending grant was for: its slots are the container's from now. */
export const GpuGrantBound = defineEvent({
  type: 'GpuGrantBound',
  schema: z.strictObject({
    requestId: z.string().min(1),
    containerId: ContainerId,
    slots: z.array(GpuSlotId).min(1),
    at: Instant,
  }),
});

/** A pending grant was not bound by its deadline; GpuReleased events for its slots follow. */
export const GpuGrantExpired = defineEvent({
  type: 'GpuGrantExpired',
  schema: z.strictObject({
    requestId: z.string().min(1),
    user: UserName.nullable(),
    slots: z.array(GpuSlotId).min(1),
    pendingUntil: Instant,
    at: Instant,
  }),
});

/**
 * The whole pool state at this point of the stream, so that a decision reads the last snapshot and
 * the events after it, not years of history. It changes nothing: folding the stream from the start
 * gives the same state at this event.
 */
export const GpuPoolSnapshotTaken = defineEvent({
  type: 'GpuPoolSnapshotTaken',
  schema: z.strictObject({
    inventory: z.array(PoolSlotSchema),
    holdings: z.array(GpuAllocated.schema),
    holds: z.array(GpuHoldStarted.schema),
    resumedAt: z.array(z.strictObject({ containerId: ContainerId, at: Instant })),
    reconciled: z.boolean(),
    /** Revision of the stream's event this state is after. */
    revision: z.number().int().nonnegative(),
  }),
});

export const allocationEvents = [
  GpuPoolInventoryRecorded,
  GpuAllocated,
  GpuAllocationDenied,
  GpuReleased,
  GpuHoldStarted,
  GpuHoldEnded,
  GpuHoldExpired,
  GpuReconciliationProblem,
  GpuPoolReconciled,
  GpuGrantBound,
  GpuGrantExpired,
  GpuPoolSnapshotTaken,
] as const;
