import { z } from 'zod';
import type { ContainerInspect } from './inspect.ts';

/** The resource limits a container was created with; null where Docker has none (0 means unlimited). */
export const ResourceLimits = z.strictObject({
  memoryBytes: z.number().int().positive().nullable(),
  /** Memory + swap; -1 is unlimited swap. */
  memorySwapBytes: z.number().int().nullable(),
  /** CPUs × 10⁹, from `--cpus` or from `--cpu-quota`/`--cpu-period`. */
  nanoCpus: z.number().int().positive().nullable(),
  cpusetCpus: z.string().nullable(),
  pidsLimit: z.number().int().positive().nullable(),
  shmSizeBytes: z.number().int().positive().nullable(),
});
export type ResourceLimits = z.infer<typeof ResourceLimits>;

const positive = (value: number | null | undefined) => (value && value > 0 ? value : null);

export function resourceLimitsOf(inspect: ContainerInspect): ResourceLimits {
  const host = inspect.HostConfig;
  const fromQuota =
    host.CpuQuota && host.CpuQuota > 0
      ? Math.round((host.CpuQuota / (host.CpuPeriod || 100_000)) * 1e9)
      : null;
  return {
    memoryBytes: positive(host.Memory),
    memorySwapBytes: host.MemorySwap ? host.MemorySwap : null,
    nanoCpus: positive(host.NanoCpus) ?? fromQuota,
    cpusetCpus: host.CpusetCpus || null,
    pidsLimit: positive(host.PidsLimit),
    shmSizeBytes: positive(host.ShmSize),
  };
}
