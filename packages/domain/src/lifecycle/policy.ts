import { z } from 'zod';

/**
 * The lifecycle rules that apply to one container, resolved by the caller from resource-limits.yaml
 * (its owner's limits and policies, its container type's `container_types` entry, the global
 * `policies`, lifecycle-exemptions.yaml) and ds01.yaml's `lifecycle` section. The domain reads no
 * file: the rules come in with the command, as the allocator's limits do.
 */
export const LifecyclePolicySchema = z.strictObject({
  /** idle_timeout_h in minutes; null: never retired for idleness. */
  idleTimeoutMinutes: z.number().positive().nullable(),
  /** max_runtime_h in hours; null: no limit. */
  maxRuntimeHours: z.number().positive().nullable(),
  /** gpu_idle_threshold: GPU activity in percent (GR_ENGINE_ACTIVE on MIG, utilisation on full GPUs). */
  gpuIdleThreshold: z.number().nonnegative(),
  /** cpu_idle_threshold: percent of one core, mean over a window (docker stats' CPU %). */
  cpuIdleThreshold: z.number().nonnegative(),
  /** network_idle_threshold: bytes received + sent within one usage window. */
  networkIdleThreshold: z.number().nonnegative(),
  /** grace_period_m: idleness counts only from this long after a start. */
  startGraceMinutes: z.number().nonnegative(),
  /** keepalive_max_duration_h: a /workspace/.keep-alive newer than this holds off idle retirement. */
  keepAliveMaxHours: z.number().nonnegative().nullable(),
  /** high_demand_idle_reduction: the idle timeout is multiplied by it while demand is high. */
  highDemandIdleReduction: z.number().positive().max(1),
  /** The container type's sigterm_grace_s. */
  sigtermGraceSeconds: z.number().int().nonnegative(),
  /** container_hold_after_stop_h: a stopped container is removed this long after; null: never. */
  containerHoldAfterStopHours: z.number().nonnegative().nullable(),
  /** created_container_timeout_m: a container created and never started is removed after it; null: never. */
  createdContainerTimeoutMinutes: z.number().nonnegative().nullable(),
  /** Minutes before a retirement at which the owner is warned (ds01.yaml lifecycle.warnings_m). */
  warningLeadMinutes: z.array(z.number().positive()),
  /** How long after their departure a departed user's containers are retired. */
  departedNoticeHours: z.number().nonnegative(),
  /** lifecycle-exemptions.yaml: the reason text when the owner is exempt, else null. */
  exemptions: z.strictObject({ idle: z.string().nullable(), maxRuntime: z.string().nullable() }),
});
export type LifecyclePolicy = z.infer<typeof LifecyclePolicySchema>;
