import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { ContainerId, Instant, UserName } from '../values.ts';

/**
 * Stream of one container's lifecycle decisions and their execution: `lifecycle-<container id>`.
 * Apart from the container's own stream (which the docker watcher alone writes, deciding on its
 * revision), so that a decision never races the watcher; it is the consistency boundary of "one
 * decision, executed once": the enforcer starts a retirement with the stream's expected revision, so
 * a cancellation and an execution can never both win.
 */
export const lifecycleStream = (containerId: string) => `lifecycle-${containerId}`;
export const LIFECYCLE_STREAM_PREFIX = 'lifecycle-';

/**
 * Why a container is retired. ds01-infra's reasons (idle timeout, max runtime, created but never
 * started, the hold after a stop before removal), the departure of its owner, and an admin's word.
 */
export const RetirementReason = z.enum([
  'idle',
  'max_runtime',
  'departed_user',
  'admin',
  'never_started',
  'stopped_hold_expired',
]);
export type RetirementReason = z.infer<typeof RetirementReason>;

/** What the enforcer does: stop (SIGTERM, then SIGKILL after the grace), stop then remove, remove. */
export const RetirementAction = z.enum(['stop', 'stop_and_remove', 'remove']);
export type RetirementAction = z.infer<typeof RetirementAction>;

/** What DS01 may exempt a container from (ds01-infra's lifecycle-exemptions.yaml words). */
export const LifecycleRule = z.enum(['idle', 'max_runtime']);
export type LifecycleRule = z.infer<typeof LifecycleRule>;

const Who = {
  containerId: ContainerId,
  /** The owner, as attributed (null: DS01 could not tell; the container is retired all the same). */
  user: UserName.nullable(),
};

/**
 * A decision: this container is retired at `at`, for `reason`. `dueAt` is when the rule says
 * (idle since + timeout, started + max runtime ...); `at` is later when the owner must first be
 * warned (never retired with less notice than the shortest warning). `detail` says why, for people.
 */
export const RetirementScheduled = defineEvent({
  type: 'RetirementScheduled',
  schema: z.strictObject({
    retirementId: z.string().min(1),
    ...Who,
    containerName: z.string(),
    reason: RetirementReason,
    action: RetirementAction,
    dueAt: Instant,
    at: Instant,
    /** SIGTERM, then SIGKILL after this many seconds (the container type's sigterm_grace_s). */
    graceSeconds: z.number().int().nonnegative(),
    /** Whether the owner is warned first (a running container); at least once before it happens. */
    warn: z.boolean(),
    detail: z.string().min(1),
  }),
});

/** The owner is told: `minutesLeft` before the retirement (one of the configured warning leads). */
export const RetirementWarned = defineEvent({
  type: 'RetirementWarned',
  schema: z.strictObject({
    retirementId: z.string().min(1),
    ...Who,
    containerName: z.string(),
    reason: RetirementReason,
    at: Instant,
    /** The configured leads (minutes before `at`) this warning answers: several when ticks were late. */
    leadMinutes: z.array(z.number().positive()).min(1),
    minutesLeft: z.number().int().nonnegative(),
    detail: z.string().min(1),
  }),
});

/** The retirement moves to `at`: the owner had not been warned in time (DS01 was down), or an admin. */
export const RetirementPostponed = defineEvent({
  type: 'RetirementPostponed',
  schema: z.strictObject({
    retirementId: z.string().min(1),
    containerId: ContainerId,
    at: Instant,
    why: z.enum(['warning_lead']),
  }),
});

export const CancellationReason = z.enum([
  'active_again',
  'keep_alive',
  'exempt',
  'extended',
  'container_started',
  'container_stopped',
  'container_removed',
  'superseded',
  'admin',
]);

/** The decision no longer holds (the container became active, was exempted ...): nothing is done. */
export const RetirementCancelled = defineEvent({
  type: 'RetirementCancelled',
  schema: z.strictObject({
    retirementId: z.string().min(1),
    containerId: ContainerId,
    why: CancellationReason,
    detail: z.string().min(1),
  }),
});

/** An admin's `ds01 lifecycle extend`: no idle or max-runtime retirement of the container before `until`. */
export const LifecycleExtended = defineEvent({
  type: 'LifecycleExtended',
  schema: z.strictObject({
    containerId: ContainerId,
    until: Instant,
    by: z.string().min(1),
    reason: z.string().min(1),
  }),
});

/** An admin's `ds01 lifecycle exempt`: the container is exempt from these rules until `until` (null: for good). */
export const LifecycleExemptionGranted = defineEvent({
  type: 'LifecycleExemptionGranted',
  schema: z.strictObject({
    containerId: ContainerId,
    from: z.array(LifecycleRule).min(1),
    until: Instant.nullable(),
    by: z.string().min(1),
    reason: z.string().min(1),
  }),
});

/**
 * The enforcer takes the decision in hand: recorded before it acts, with the stream's expected
 * revision, so that one attempt is ever in hand per decision and a crash mid-action is known at restart.
 */
export const RetirementStarted = defineEvent({
  type: 'RetirementStarted',
  schema: z.strictObject({
    retirementId: z.string().min(1),
    containerId: ContainerId,
    attempt: z.number().int().positive(),
    action: RetirementAction,
    graceSeconds: z.number().int().nonnegative(),
    at: Instant,
  }),
});

/**
 * The outcome of a retirement. stopped / removed / stopped_and_removed: the enforcer did it;
 * already_stopped: the container had stopped before the enforcer acted (nothing was sent);
 * already_gone: it no longer existed (nothing to do: recorded, not an error).
 */
export const RetirementOutcome = z.enum([
  'stopped',
  'removed',
  'stopped_and_removed',
  'already_stopped',
  'already_gone',
]);
export type RetirementOutcome = z.infer<typeof RetirementOutcome>;

export const ContainerRetired = defineEvent({
  type: 'ContainerRetired',
  schema: z.strictObject({
    retirementId: z.string().min(1),
    ...Who,
    reason: RetirementReason,
    action: RetirementAction,
    outcome: RetirementOutcome,
    /** Found after a restart of the enforcer (the attempt before it crashed had acted). */
    resumed: z.boolean(),
    at: Instant,
  }),
});

/** An attempt failed (Docker unreachable ...): tried again at `retryAt`, or given up when null. */
export const RetirementFailed = defineEvent({
  type: 'RetirementFailed',
  schema: z.strictObject({
    retirementId: z.string().min(1),
    containerId: ContainerId,
    attempt: z.number().int().positive(),
    error: z.string().min(1),
    retryAt: Instant.nullable(),
  }),
});

export const lifecycleEvents = [
  RetirementScheduled,
  RetirementWarned,
  RetirementPostponed,
  RetirementCancelled,
  LifecycleExtended,
  LifecycleExemptionGranted,
  RetirementStarted,
  ContainerRetired,
  RetirementFailed,
] as const;
