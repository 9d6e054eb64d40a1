import type { CreateLimits } from '@ds01/domain';
import { Ds01Error } from '@ds01/errors';
import type { EffectiveLimits } from './effectiveLimits.ts';

const UNITS: Record<string, number> = {
  '': 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/**
 * A size as docker's `--memory 32g` reads it (go-units RAMInBytes: binary units, an optional `i`
 * and `b`, a fraction allowed, rounded down), in bytes; a number is bytes already.
 */
export function dockerSizeBytes(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(value.trim());
  if (!match) {
    throw new Ds01Error(`"${value}" is not a size like 32g or 512m`, {
      hint: 'write sizes as docker does: a number and k, m, g or t (512m, 32g)',
    });
  }
  return Math.floor(Number(match[1]) * UNITS[(match[2] ?? '').toLowerCase()]!);
}

/** Docker's 0 and -1 are "unlimited": null in the create policy. */
function limitOrNull(size: string | number): number | null {
  if (String(size).trim() === '-1') return null;
  const bytes = dockerSizeBytes(size);
  return bytes > 0 ? bytes : null;
}

/**
 * The per-container limits the gateway's create policy applies, from a user's effective limits
 * (what `get_resource_limits.py USER --docker-args` turns into --cpus, --memory, ... flags).
 */
export function createPolicyLimits(limits: EffectiveLimits): CreateLimits {
  return {
    max_cpus: limits.max_cpus > 0 ? limits.max_cpus : null,
    memory: limitOrNull(limits.memory),
    memory_swap: limitOrNull(limits.memory_swap),
    shm_size: limitOrNull(limits.shm_size),
    pids_limit: limits.pids_limit > 0 ? limits.pids_limit : null,
    max_containers_per_user: limits.max_containers_per_user,
    max_gpu_slots_per_container: limits.max_gpu_slots_per_container,
  };
}
