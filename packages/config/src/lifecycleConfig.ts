import { z } from 'zod';

const PositiveMinutes = z.number().positive().describe('a number of minutes > 0');

/**
 * ds01.yaml `lifecycle:` — how DS01 carries out the lifecycle rules of resource-limits.yaml (which
 * say *what*: idle timeouts, max runtimes, holds; this says *how*: warnings, notice, pace, dry run).
 */
export const LifecycleConfig = z.strictObject({
  /** Minutes before a retirement at which its owner is warned (each one warning). */
  warnings_m: z.array(PositiveMinutes).default([60, 15]),
  /** How long after a user departs their containers are stopped and removed. */
  departed_notice_h: z.number().min(0).default(72),
  /** How often the lifecycle service looks at every container (at least once per usage window). */
  tick_s: z.number().positive().default(60),
  /** SIGTERM → SIGKILL grace when neither the container type nor the user's policies set one. */
  stop_grace_s: z.int().min(0).default(60),
  /** Log what the enforcer would do, and do nothing. */
  dry_run: z.boolean().default(false),
  /** An idle retirement waits while the container's usage windows are older than this (unknown is not idle). */
  usage_stale_after_m: z.number().positive().default(15),
  /** The enforcer's retries after a failed attempt: first delay, doubled each time up to the max. */
  retry_first_s: z.number().positive().default(30),
  retry_max_s: z.number().positive().default(1800),
  max_attempts: z.int().min(1).default(10),
  /** How long one Docker call of the enforcer may take beyond the stop grace. */
  docker_timeout_s: z.number().positive().default(30),
  /** Check every owner of a container against the host's accounts (getent) this often: gone = departed. */
  account_check_s: z.number().positive().default(600),
});
export type LifecycleConfig = z.infer<typeof LifecycleConfig>;

export const lifecycleSection = { lifecycle: LifecycleConfig.nullish() };

/** The settings of an absent `lifecycle:` section. */
export const DEFAULT_LIFECYCLE_CONFIG: LifecycleConfig = LifecycleConfig.parse({});

export function lifecycleConfigOf(yaml: { lifecycle?: LifecycleConfig | null | undefined }): LifecycleConfig {
  return yaml.lifecycle ?? DEFAULT_LIFECYCLE_CONFIG;
}
