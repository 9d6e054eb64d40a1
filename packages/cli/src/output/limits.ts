import type { EffectiveLimits } from '@ds01/config';
import { formatGpuEquivalents } from '@ds01/domain';
import { z } from 'zod';

/**
 * The limits a person reads first, out of a user's EffectiveLimits (the DS01 API's
 * `/ds01/v1/limits` answers all of them; extra fields are ignored here).
 */
export const ShownLimits = z.object({
  max_gpu_equivalents: z.number().nullable(),
  max_containers_per_user: z.number().nullable(),
  memory: z.string(),
  max_cpus: z.number(),
});
export type ShownLimits = Pick<EffectiveLimits, keyof z.infer<typeof ShownLimits>>;

/** What the user holds now, against which the limits are shown (absent: not known here). */
export interface LimitsUse {
  gpuEquivalents: number;
  containers: number;
}

/**
 * A user's limits as short label/value pairs, with what they use where known: the one formatter of
 * limits, so the admin dashboard's line and `ds01 setup`'s table say the same thing the same way.
 */
export function limitItems(limits: ShownLimits, use?: LimitsUse): { label: string; value: string }[] {
  const of = (used: number | undefined, limit: number | null, format: (n: number) => string = String) =>
    `${used === undefined ? '' : `${format(used)} of `}${limit === null ? 'unlimited' : format(limit)}`;
  return [
    { label: 'GPUs', value: of(use?.gpuEquivalents, limits.max_gpu_equivalents, formatGpuEquivalents) },
    { label: 'containers', value: of(use?.containers, limits.max_containers_per_user) },
    { label: 'memory', value: limits.memory },
    { label: 'cpus', value: String(limits.max_cpus) },
  ];
}

/** The items on one line: "GPUs 0.43 of 2, containers 1 of 3, memory 32g, cpus 32". */
export function limitsLine(limits: ShownLimits, use?: LimitsUse): string {
  return limitItems(limits, use)
    .map((item) => `${item.label} ${item.value}`)
    .join(', ');
}
