import { z } from 'zod';
import type { EffectiveLimits, LimitName } from './effectiveLimits.ts';
import { pythonFloat, pythonStr } from './pythonFormat.ts';

/**
 * What ds01-infra's `get_resource_limits.py USER --json` prints: every value a string, formatted
 * by Python (`1` vs `1.0`, `unlimited`, `N/A`). Scripts written for ds01-infra read these keys.
 */
export const GetResourceLimitsJson = z.strictObject({
  group: z.string(),
  max_gpus: z.string(),
  max_gpus_per_container: z.string(),
  max_containers: z.string(),
  cpu_cores: z.string(),
  memory: z.string(),
  storage_workspace: z.string(),
  idle_timeout: z.string(),
  gpu_hold: z.string(),
  container_hold: z.string(),
  max_runtime: z.string(),
});
export type GetResourceLimitsJson = z.infer<typeof GetResourceLimitsJson>;

/** The user's limits exactly as `get_resource_limits.py USER --json` prints them (same keys, order, text). */
export function toGetResourceLimitsJson(limits: EffectiveLimits): GetResourceLimitsJson {
  const str = (name: LimitName, value: unknown) => pythonStr(value, limits.sources[name]?.float ?? false);
  const hours = (
    name: 'idle_timeout_h' | 'gpu_hold_after_stop_h' | 'container_hold_after_stop_h' | 'max_runtime_h',
    none: string,
  ) => (limits[name] === null ? none : `${str(name, limits[name])}h`);
  return {
    group: limits.group,
    max_gpus:
      limits.max_gpu_equivalents === null ? 'unlimited' : formatGpuEquivalents(limits.max_gpu_equivalents),
    max_gpus_per_container:
      limits.max_gpu_slots_per_container === null
        ? 'unlimited'
        : str('max_gpu_slots_per_container', limits.max_gpu_slots_per_container),
    max_containers:
      limits.max_containers_per_user === null
        ? 'unlimited'
        : str('max_containers_per_user', limits.max_containers_per_user),
    cpu_cores: str('max_cpus', limits.max_cpus),
    memory: limits.memory,
    storage_workspace: limits.storage_workspace ?? 'N/A',
    idle_timeout: hours('idle_timeout_h', 'N/A'),
    gpu_hold: hours('gpu_hold_after_stop_h', 'N/A'),
    container_hold: hours('container_hold_after_stop_h', 'N/A'),
    max_runtime: hours('max_runtime_h', 'unlimited'),
  };
}

/** ds01-infra's _format_gpueq: whole numbers without `.0` (shell `-gt` compares them), else the float. */
export function formatGpuEquivalents(value: number): string {
  return Number.isInteger(value) ? pythonStr(value) : pythonFloat(value);
}
