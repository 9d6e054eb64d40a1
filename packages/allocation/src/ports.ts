import type { AllocationLimits, PoolSlot, UserStatus } from '@ds01/domain';

/**
 * What the allocator reads from outside the log, each behind a small interface so the command
 * path runs the same in ds01d, the CLI, tests and benchmarks.
 */

/** A user's GPU limits (resource-limits.yaml); null: the defaults, for a container with no owner. */
export interface LimitsSource {
  limitsFor(user: string | null): AllocationLimits | Promise<AllocationLimits>;
}

/** The devices of this host's pool now (nvidia-smi's last sample, or the simulated inventory). */
export interface InventorySource {
  current(): Promise<readonly PoolSlot[]>;
}

/** Whether a user may get GPUs at all: an account of the host, one that left, or nobody known. */
export interface UserStatusSource {
  statusOf(user: string): Promise<UserStatus>;
}
