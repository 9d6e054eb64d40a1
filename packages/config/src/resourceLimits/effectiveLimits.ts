import type { AllocationLimits } from '@ds01/domain';
import { gpuQuotaKeys, slotsPerContainerKeys } from './keys.ts';
import type { GroupDefinition, LimitsLayer, ResourceLimits, SettingSource } from './model.ts';
import { pythonStr } from './pythonFormat.ts';
import { sanitizeUsernameForSlice, userSliceName } from './sanitizeUsername.ts';
import type { Aggregate } from './schema.ts';

/** The idle-detection thresholds ds01-infra applies to one user (get_lifecycle_policies). */
export interface UserPolicies {
  gpu_idle_threshold: number;
  cpu_idle_threshold: number;
  network_idle_threshold: number;
  idle_detection_window: number;
  sigterm_grace_s: number;
}

/**
 * One user's limits, resolved as ds01-infra's get_resource_limits.py resolves them, under the
 * canonical key names (aliases resolved). `null` means unlimited / no limit / not set, as ds01-infra
 * reads it; `sources` says where each value was written (absent: ds01-infra's built-in default).
 */
export interface EffectiveLimits {
  user: string;
  /** The name in slice and cgroup names (sanitizeUsernameForSlice). */
  sanitizedUser: string;
  /** What `get_resource_limits.py USER --group` prints: `override` for a user with an override. */
  group: string;
  /** The group the user's membership gives (their members list, else the default group). */
  memberOf: string;
  /** How the user was found: by name, by sanitized name, or not at all (the default group). */
  matchedBy: 'override' | 'members' | 'default group';
  /** `--cgroup-parent` of the user's containers: ds01-<group>-<sanitized user>.slice. */
  cgroupParent: string;
  max_gpu_equivalents: number | null;
  max_gpu_slots_per_container: number | null;
  allow_full_gpu: boolean;
  priority: number;
  max_cpus: number;
  memory: string;
  memory_swap: string;
  shm_size: string;
  pids_limit: number;
  storage_tmp: string | null;
  storage_workspace: string | null;
  storage_data: string | null;
  max_containers_per_user: number | null;
  max_runtime_h: number | null;
  idle_timeout_h: number | null;
  gpu_hold_after_stop_h: number | null;
  container_hold_after_stop_h: number | null;
  max_tasks: number | null;
  /** Per-user totals (the slice); null when none apply (e.g. admin). */
  aggregate: Aggregate | null;
  policies: UserPolicies;
  sources: Partial<Record<LimitName, SettingSource>>;
}

/** The keys of EffectiveLimits that come from the limit layers. */
export type LimitName =
  | 'max_gpu_equivalents'
  | 'max_gpu_slots_per_container'
  | 'allow_full_gpu'
  | 'priority'
  | 'max_cpus'
  | 'memory'
  | 'memory_swap'
  | 'shm_size'
  | 'pids_limit'
  | 'storage_tmp'
  | 'storage_workspace'
  | 'storage_data'
  | 'max_containers_per_user'
  | 'max_runtime_h'
  | 'idle_timeout_h'
  | 'gpu_hold_after_stop_h'
  | 'container_hold_after_stop_h'
  | 'max_tasks'
  | 'aggregate'
  | 'policies';

/** ds01-infra's defaults for the idle thresholds when the global `policies` leave them out. */
const policyDefaults: UserPolicies = {
  gpu_idle_threshold: 5,
  cpu_idle_threshold: 2.0,
  network_idle_threshold: 1048576,
  idle_detection_window: 3,
  sigterm_grace_s: 60,
};

interface Setting {
  value: unknown;
  source: SettingSource;
}

/**
 * A user's limits. Resolution (ds01-infra's ResourceLimitParser, reproduced exactly):
 * 1. the user's name, then its sanitized form, is looked up in the overrides: an override is
 *    merged over the defaults ALONE (the user's group section is not applied) and the group reads
 *    `override`;
 * 2. else in the groups' members, in file order: the first group listing the user wins;
 * 3. else the default group. Merging is shallow (`dict.update`): a key present with null shadows
 *    the defaults; an absent key falls back to them, then to ds01-infra's built-in default.
 */
export function effectiveLimits(config: ResourceLimits, user: string): EffectiveLimits {
  const sanitizedUser = sanitizeUsernameForSlice(user);
  const matches = (has: (name: string) => boolean) =>
    has(user) || (sanitizedUser !== user && has(sanitizedUser));
  const overrideKey = [user, sanitizedUser].find(
    (name, i) => (i === 0 || name !== user) && config.overrides.has(name),
  );
  const override = overrideKey ? config.overrides.get(overrideKey) : undefined;
  const memberGroup = config.groups.find((g) => matches((name) => g.members.has(name)));
  const defaultGroup = config.groups.find((g) => g.name === config.defaultGroup);
  const membershipGroup: GroupDefinition | undefined = memberGroup ?? defaultGroup;
  const group = override ? 'override' : (memberGroup?.name ?? config.defaultGroup);

  const merged = mergeLayers(config.defaults, override?.limits ?? membershipGroup?.limits);
  const sources: Partial<Record<LimitName, SettingSource>> = {};
  const get = <T>(name: LimitName, keys: readonly string[], fallback: T): T | unknown => {
    const key = keys.find((k) => k in merged);
    if (key === undefined) return fallback;
    sources[name] = merged[key]!.source;
    return merged[key]!.value;
  };
  const unlimitedAsNull = (value: unknown) => (value === 'unlimited' ? null : value);

  const quota = unlimitedAsNull(get('max_gpu_equivalents', gpuQuotaKeys, 1.0)) as number | null;
  const slots = unlimitedAsNull(get('max_gpu_slots_per_container', slotsPerContainerKeys, 1)) as
    | number
    | null;
  // `limits.get("max_cpus") or limits.get("cpus", 16)`: a missing max_cpus falls back to the old `cpus`.
  const cpus = get('max_cpus', ['max_cpus', 'cpus'], 16) as number;
  const memory = pythonStr(get('memory', ['memory'], '32g'));
  const storage = (name: LimitName) => {
    const value = get(name, [name], null);
    return value === null ? null : pythonStr(value);
  };
  const hours = (name: LimitName) => get(name, [name], null) as number | null;

  return {
    user,
    sanitizedUser,
    group,
    memberOf: membershipGroup?.name ?? config.defaultGroup,
    matchedBy: override ? 'override' : memberGroup ? 'members' : 'default group',
    cgroupParent: userSliceName(group, user),
    max_gpu_equivalents: quota,
    max_gpu_slots_per_container: slots,
    allow_full_gpu: get('allow_full_gpu', ['allow_full_gpu'], false) === true,
    priority: get('priority', ['priority'], 10) as number,
    max_cpus: cpus,
    memory,
    memory_swap: pythonStr(get('memory_swap', ['memory_swap'], memory)),
    shm_size: pythonStr(get('shm_size', ['shm_size'], '16g')),
    pids_limit: get('pids_limit', ['pids_limit'], 4096) as number,
    storage_tmp: storage('storage_tmp'),
    storage_workspace: storage('storage_workspace'),
    storage_data: storage('storage_data'),
    max_containers_per_user: get('max_containers_per_user', ['max_containers_per_user'], 3) as number | null,
    max_runtime_h: hours('max_runtime_h'),
    idle_timeout_h: hours('idle_timeout_h'),
    gpu_hold_after_stop_h: hours('gpu_hold_after_stop_h'),
    container_hold_after_stop_h: hours('container_hold_after_stop_h'),
    max_tasks: get('max_tasks', ['max_tasks'], null) as number | null,
    aggregate: resolveAggregate(override, membershipGroup, sources),
    policies: resolvePolicies(config, override, membershipGroup, sources),
    sources,
  };
}

/** `limits = defaults.copy(); limits.update(layer)`, keeping where each value came from. */
function mergeLayers(defaults: LimitsLayer, layer: LimitsLayer | undefined): Record<string, Setting> {
  const merged: Record<string, Setting> = {};
  for (const source of [defaults, layer]) {
    if (!source) continue;
    for (const [key, value] of Object.entries(source.values))
      merged[key] = { value, source: source.sources[key]! };
  }
  return merged;
}

/** get_aggregate_limits: the override's `aggregate` if it has one, else the membership group's. */
function resolveAggregate(
  override: { aggregate?: Aggregate | null; limits: LimitsLayer } | undefined,
  group: GroupDefinition | undefined,
  sources: Partial<Record<LimitName, SettingSource>>,
): Aggregate | null {
  const holder =
    override && 'aggregate' in override ? override : group && 'aggregate' in group ? group : undefined;
  if (!holder) return null;
  const source = (holder === override ? override.limits : group!.limits).sources['aggregate'];
  if (source) sources.aggregate = source;
  return holder.aggregate ?? null;
}

/**
 * get_lifecycle_policies: the global `policies` (or ds01-infra's defaults), then the override's
 * `policies` if it has some, else the membership group's. Only the five per-user keys are taken.
 */
function resolvePolicies(
  config: ResourceLimits,
  override: { policies?: Partial<UserPolicies>; limits: LimitsLayer } | undefined,
  group: GroupDefinition | undefined,
  sources: Partial<Record<LimitName, SettingSource>>,
): UserPolicies {
  const global = config.file.policies ?? {};
  const result = { ...policyDefaults };
  for (const key of Object.keys(result) as (keyof UserPolicies)[]) {
    const value = global[key];
    if (typeof value === 'number') result[key] = value;
  }
  const holder = override?.policies ? override : group;
  if (holder?.policies) {
    for (const key of Object.keys(result) as (keyof UserPolicies)[]) {
      const value = holder.policies[key];
      if (typeof value === 'number') result[key] = value;
    }
    const source = holder.limits.sources['policies'];
    if (source) sources.policies = source;
  }
  return result;
}

/**
 * The GPU limits the allocator decides with (AllocationLimits of @ds01/domain): the quota in
 * GPU-equivalents, the per-container slot cap, whether a full GPU may be granted, the hold after a
 * stop, and the group's aggregate gpu_limit. null means unlimited.
 */
export function allocationLimits(limits: EffectiveLimits): AllocationLimits {
  const groupLimit = limits.aggregate?.gpu_limit;
  return {
    quotaGpuEquivalents: limits.max_gpu_equivalents,
    perContainerSlotCap: limits.max_gpu_slots_per_container,
    allowFullGpu: limits.allow_full_gpu,
    holdAfterStopHours: limits.gpu_hold_after_stop_h,
    aggregateGpuLimit: typeof groupLimit === 'number' ? groupLimit : null,
  };
}
