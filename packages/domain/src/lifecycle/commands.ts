import type { LifecycleRule, RetirementAction, RetirementOutcome } from './events.ts';
import type { LifecyclePolicy } from './policy.ts';

/**
 * Commands of a container's lifecycle stream. Time comes in as `now`; everything else a decision
 * depends on that is not on the container's streams comes in too: the rules (policy), whether the
 * GPUs are in high demand, the keep-alive file, the owner's departure.
 */

/** The lifecycle service's periodic look at one container (every usage window at the least). */
export interface LifecycleTick {
  type: 'LifecycleTick';
  now: Date;
  policy: LifecyclePolicy;
  /** high_demand_threshold of the GPUs are allocated: idle timeouts are shortened. */
  highDemand: boolean;
  /** /workspace/.keep-alive as found (its modification time), or null when there is none. */
  keepAlive: { modifiedAt: string } | null;
  /** When the owner departed (UserDeparted), or null. */
  ownerDepartedAt: string | null;
}

/** `ds01 lifecycle extend`: no idle or max-runtime retirement before `until`. */
export interface ExtendLifecycle {
  type: 'ExtendLifecycle';
  now: Date;
  until: Date;
  by: string;
  reason: string;
}

/** `ds01 lifecycle exempt`: exempt from rules until `until` (null: for good). */
export interface ExemptContainer {
  type: 'ExemptContainer';
  now: Date;
  from: LifecycleRule[];
  until: Date | null;
  by: string;
  reason: string;
}

/** `ds01 lifecycle retire`: an admin retires the container at `at`. */
export interface RetireContainer {
  type: 'RetireContainer';
  now: Date;
  at: Date;
  action: RetirementAction;
  graceSeconds: number;
  /** Warn the owner first (with these leads); empty: at once. */
  warningLeadMinutes: number[];
  by: string;
  reason: string;
}

/** The enforcer takes a due retirement in hand (attempt = the number of this try). */
export interface StartRetirement {
  type: 'StartRetirement';
  now: Date;
  retirementId: string;
}

/** The enforcer's outcome of the attempt in hand. */
export interface CompleteRetirement {
  type: 'CompleteRetirement';
  now: Date;
  retirementId: string;
  outcome: RetirementOutcome;
  /** Found at restart: the attempt before a crash had acted. */
  resumed: boolean;
}

export interface FailRetirement {
  type: 'FailRetirement';
  now: Date;
  retirementId: string;
  error: string;
  /** When to try again; null: give up. */
  retryAt: Date | null;
}

export type LifecycleCommand =
  | LifecycleTick
  | ExtendLifecycle
  | ExemptContainer
  | RetireContainer
  | StartRetirement
  | CompleteRetirement
  | FailRetirement;
