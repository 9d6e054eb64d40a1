import type { EffectiveLimits } from './effectiveLimits.ts';
import { pythonStr } from './pythonFormat.ts';

/**
 * The `docker run` options that put a user's container under their limits, exactly as ds01-infra's
 * `get_resource_limits.py USER --docker-args` prints them: CPUs, memory, swap, shared memory,
 * process count, an optional /tmp tmpfs, and the user's slice as cgroup parent.
 */
export function dockerRunArgs(limits: EffectiveLimits): string[] {
  const str = (name: 'max_cpus' | 'pids_limit', value: unknown) =>
    pythonStr(value, limits.sources[name]?.float ?? false);
  return [
    `--cpus=${str('max_cpus', limits.max_cpus)}`,
    `--memory=${limits.memory}`,
    `--memory-swap=${limits.memory_swap}`,
    `--shm-size=${limits.shm_size}`,
    `--pids-limit=${str('pids_limit', limits.pids_limit)}`,
    ...(limits.storage_tmp === null ? [] : [`--tmpfs=/tmp:size=${limits.storage_tmp}`]),
    `--cgroup-parent=${limits.cgroupParent}`,
  ];
}
