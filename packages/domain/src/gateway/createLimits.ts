import type { HostConfig } from './createBody.ts';
import type { CreateLimits } from './createContext.ts';
import { type CreateRefusal, type CreateRule, refuse } from './createRules.ts';

const NANO = 1e9;
const DEFAULT_CPU_PERIOD = 100_000;

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
/** Bytes as people read them in docker's units: 32g, 512m, 1234b. */
export function formatBytes(value: number): string {
  if (value % GIB === 0) return `${value / GIB}g`;
  if (value % MIB === 0) return `${value / MIB}m`;
  return `${value}b`;
}

/**
 * Puts the container under the user's per-container limits: a limit the request does not set is
 * set to the user's; one set above it, or to "unlimited", is refused. The docker CLI sends 0 for
 * Memory, MemorySwap, NanoCpus and ShmSize it was not given, so 0 there is "not set" and gets the
 * limit; PidsLimit is null when not given, and 0 or -1 is an explicit "unlimited".
 */
export function applyLimits(host: HostConfig, limits: CreateLimits): CreateRefusal | undefined {
  return (
    applyCpus(host, limits.max_cpus) ??
    applySize(host, 'Memory', limits.memory, 'memory-limit', 'memory', '--memory') ??
    applySwap(host, limits.memory_swap) ??
    applySize(host, 'ShmSize', limits.shm_size, 'shm-size-limit', 'shm_size', '--shm-size') ??
    applyPids(host, limits.pids_limit)
  );
}

function applyCpus(host: HostConfig, maxCpus: number | null): CreateRefusal | undefined {
  if (maxCpus === null) return undefined;
  const max = Math.round(maxCpus * NANO);
  const over = (cpus: number) =>
    refuse(
      'cpu-limit',
      `${cpus} CPUs asked, and you may use at most ${maxCpus} per container (max_cpus): ` +
        `ask for fewer with --cpus, or leave it out to get ${maxCpus}`,
    );
  const nano = host.NanoCpus ?? 0;
  const quota = host.CpuQuota ?? 0;
  const period = host.CpuPeriod ?? 0;
  if (nano < 0) return over(Number.POSITIVE_INFINITY);
  if (nano > 0) return nano > max ? over(nano / NANO) : undefined;
  if (quota < 0) return over(Number.POSITIVE_INFINITY);
  if (quota > 0) {
    const cpus = quota / (period > 0 ? period : DEFAULT_CPU_PERIOD);
    return cpus * NANO > max ? over(cpus) : undefined;
  }
  // Docker refuses NanoCpus beside a CpuPeriod: a period alone gets the quota that makes max_cpus.
  if (period > 0) host.CpuQuota = Math.round(maxCpus * period);
  else host.NanoCpus = max;
  return undefined;
}

function applySize(
  host: HostConfig,
  field: 'Memory' | 'ShmSize',
  limit: number | null,
  rule: CreateRule,
  key: string,
  flag: string,
): CreateRefusal | undefined {
  if (limit === null) return undefined;
  const asked = host[field] ?? 0;
  if (asked === 0) {
    host[field] = limit;
    return undefined;
  }
  if (asked > 0 && asked <= limit) return undefined;
  const what = asked < 0 ? 'no limit asked' : `${formatBytes(asked)} asked`;
  return refuse(
    rule,
    `${what}, and you may use at most ${formatBytes(limit)} per container (${key}): ` +
      `ask for less with ${flag}, or leave it out to get ${formatBytes(limit)}`,
  );
}

function applySwap(host: HostConfig, limit: number | null): CreateRefusal | undefined {
  if (limit === null) return undefined;
  const asked = host.MemorySwap ?? 0;
  if (asked === 0) {
    // Docker refuses a MemorySwap below Memory; a limits file with memory_swap < memory means no swap.
    host.MemorySwap = Math.max(limit, host.Memory ?? 0);
    return undefined;
  }
  if (asked > 0 && asked <= limit) return undefined;
  const what = asked < 0 ? 'unlimited swap asked (--memory-swap -1)' : `${formatBytes(asked)} asked`;
  return refuse(
    'memory-swap-limit',
    `${what}, and memory plus swap may be at most ${formatBytes(limit)} per container (memory_swap): ` +
      `ask for less with --memory-swap, or leave it out`,
  );
}

function applyPids(host: HostConfig, limit: number | null): CreateRefusal | undefined {
  if (limit === null) return undefined;
  const asked = host.PidsLimit ?? 0;
  if (asked === 0) {
    host.PidsLimit = limit;
    return undefined;
  }
  if (asked > 0 && asked <= limit) return undefined;
  const what = asked < 0 ? 'no process limit asked (--pids-limit -1)' : `${asked} processes asked`;
  return refuse(
    'pids-limit',
    `${what}, and you may run at most ${limit} per container (pids_limit): ` +
      `ask for fewer with --pids-limit, or leave it out to get ${limit}`,
  );
}
