/**
 * Key names that share one meaning. ds01-infra reads the first key PRESENT in a user's merged
 * limits, even when its value is null (get_resource_limits.py `_first_present`), so the order of
 * each list matters.
 */
export const gpuQuotaKeys = [
  'max_gpu_equivalents',
  'max_gpu_slots',
  'max_gpus_per_user',
  'max_mig_instances',
] as const;
export const slotsPerContainerKeys = [
  'max_gpu_slots_per_container',
  'max_gpus_per_container',
  'max_mig_per_container',
] as const;
export const slotsPerGpuKeys = ['slots_per_gpu', 'mig_instances_per_gpu'] as const;

/** Every alias list, for the check that an older key is not silently shadowed by a newer one. */
export const aliasLists: readonly (readonly string[])[] = [gpuQuotaKeys, slotsPerContainerKeys];

/**
 * Keys renamed with their unit in the name (a2885ac/63de5f7, 2026-04-02) with no alias: ds01-infra
 * no longer reads the old name, so neither does DS01; a file that still has one gets a warning
 * naming the key to write instead. Keyed by the section kind they appear in.
 */
export const renamedKeys: Readonly<
  Record<string, Readonly<Record<string, { to: string; unit: 'h' | 'm' | 's' }>>>
> = {
  limits: {
    max_runtime: { to: 'max_runtime_h', unit: 'h' },
    idle_timeout: { to: 'idle_timeout_h', unit: 'h' },
    gpu_hold_after_stop: { to: 'gpu_hold_after_stop_h', unit: 'h' },
    container_hold_after_stop: { to: 'container_hold_after_stop_h', unit: 'h' },
  },
  containerType: {
    idle_timeout: { to: 'idle_timeout_h', unit: 'h' },
    max_runtime: { to: 'max_runtime_h', unit: 'h' },
    sigterm_grace_seconds: { to: 'sigterm_grace_s', unit: 's' },
  },
  policies: {
    sigterm_grace_seconds: { to: 'sigterm_grace_s', unit: 's' },
    grace_period: { to: 'grace_period_m', unit: 'm' },
    keepalive_max_duration: { to: 'keepalive_max_duration_h', unit: 'h' },
    gpu_hold_after_manual_stop: { to: 'gpu_hold_after_manual_stop_m', unit: 'm' },
    created_container_timeout: { to: 'created_container_timeout_m', unit: 'm' },
  },
  bareMetal: {
    default_grant_duration: { to: 'default_grant_duration_h', unit: 'h' },
  },
};

/**
 * ds01_core.parse_duration: seconds for "30m", "0.5h", "1d", "2w", a bare number (seconds);
 * -1 for no limit (null, none, never, indefinite, empty); 0 when it cannot be read.
 */
export function parseLegacyDuration(value: unknown): number {
  if (value === null || value === undefined || value === '' || value === 0) return -1;
  const text = String(value).trim().toLowerCase();
  if (['null', 'none', 'never', 'indefinite', ''].includes(text)) return -1;
  const match = /^([0-9.]+)\s*([a-z]*)$/.exec(text);
  if (!match) return 0;
  const amount = Number(match[1]);
  if (Number.isNaN(amount)) return 0;
  const multiplier = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[match[2] || 's'];
  return multiplier === undefined ? 0 : Math.trunc(amount * multiplier);
}
