import { z } from 'zod';

/**
 * The files of ds01-infra's resource limits, as zod schemas: every key that any version of the
 * format used (ds01-infra's history from 2025-10 to 2cf1a0e, its test fixtures and documented
 * examples), each with the values it accepts. ds01-infra itself validates nothing; DS01 refuses a key
 * no version knows, a wrong type and a negative number, naming file:line:column.
 *
 * `null` and absence differ: a key present with `null` means unlimited / disabled and shadows the
 * defaults; an absent key falls back to the defaults. The descriptions are what error messages say
 * is expected.
 */

const unlimitedWord = z.literal('unlimited');

/** Quota in GPU-equivalents (gpueq): a full GPU is 1.0, a MIG slot of profile `Ng` is N/7. */
export const GpuEquivalents = z
  .union([z.number().min(0), z.null(), unlimitedWord])
  .describe(
    'a number of GPU-equivalents ≥ 0 (a full GPU is 1.0, a MIG slot "Ng.." is N/7), or null for unlimited',
  );

export const SlotCap = z
  .union([z.int().min(0), z.null(), unlimitedWord])
  .describe('a whole number of GPU/MIG slots ≥ 0, or null for unlimited');

export const Hours = z.number().min(0).nullable().describe('a number of hours ≥ 0, or null for no limit');

const Minutes = z.number().min(0).nullable().describe('a number of minutes ≥ 0, or null');
const Seconds = z.number().min(0).describe('a number of seconds ≥ 0');
const Count = z.int().min(0).describe('a whole number ≥ 0');
const CountOrUnlimited = z.int().min(0).nullable().describe('a whole number ≥ 0, or null for unlimited');
const Fraction = z.number().min(0).max(1).describe('a fraction between 0 and 1');
const Percent = z.number().min(0).describe('a percentage ≥ 0');
const Bool = z.boolean().describe('true or false (YAML 1.1 also reads yes/no and on/off)');
const Text = z.string().min(1).describe('text');
const Names = z
  .array(z.string().min(1).describe('a name (quote numeric ones: "204214")'))
  .describe('a list of names');

/** Docker's size syntax (units.RAMInBytes): `32g`, `512m`, `1.5GB`; a bare number is bytes. */
export const DockerSize = z
  .union([z.string().regex(/^\d+(\.\d+)* ?[kKmMgGtTpP]?[iI]?[bB]?$/), z.int().min(0)])
  .describe('a size like "32g" or "512m" (units b, k, m, g; a bare number is bytes)');

/** Docker's -1 means unlimited for swap and pids. */
const DockerSizeOrUnlimited = z
  .union([DockerSize, z.literal(-1)])
  .describe('a size like "32g", or -1 for unlimited');

const StorageSize = z
  .union([z.string().min(1), z.int().min(0), z.null()])
  .describe('a size like "100G" (shown to users; not enforced)');

/** ds01_core.parse_duration: `30m`, `0.5h`, `1d`, `2w`, a bare number of seconds, or a no-limit word. */
export const LegacyDuration = z
  .union([
    z.string().regex(/^\s*(?:null|none|never|indefinite|[0-9.]+\s*[smhdwSMHDW]?)?\s*$/),
    z.number().min(0),
    z.null(),
  ])
  .describe('a duration like "30m", "0.5h", "1d" or "2w" (legacy format), or null');

/** systemd's CPUQuota= ("9600%" = 96 CPUs). */
const CpuQuota = z
  .string()
  .regex(/^\d+(\.\d+)?%$/)
  .describe('a systemd CPU quota like "9600%" (100% is one CPU)');
/** systemd's MemoryMax=/MemoryHigh=: bytes with K/M/G/T/P/E, a percentage, or infinity. */
const SystemdSize = z
  .union([z.string().regex(/^(\d+(\.\d+)?[KMGTPE]?|\d+(\.\d+)?%|infinity)$/), z.int().min(0)])
  .describe('a systemd size like "96G", "80%" or "infinity"');
const SystemdCount = z
  .union([z.int().min(0), z.literal('infinity')])
  .describe('a whole number ≥ 0, or "infinity"');

/** Per-user totals, enforced through the user's systemd slice (generate-user-slice-limits.py). */
export const Aggregate = z
  .strictObject({
    cpu_quota: CpuQuota,
    memory_max: SystemdSize,
    memory_high: SystemdSize,
    tasks_max: SystemdCount,
    /** The group's GPU total per user in gpueq; null, "unlimited" or absent = unlimited. */
    gpu_limit: GpuEquivalents.optional(),
  })
  .describe(
    'a map with cpu_quota, memory_max, memory_high and tasks_max (ds01-infra writes all four into the slice)',
  );
export type Aggregate = z.infer<typeof Aggregate>;

/** The idle-detection thresholds a group or a user override may set (get_lifecycle_policies). */
const perUserPolicyKeys = {
  gpu_idle_threshold: Percent,
  cpu_idle_threshold: Percent,
  network_idle_threshold: z.number().min(0).describe('a number of bytes ≥ 0'),
  idle_detection_window: z.int().min(1).describe('a whole number of checks ≥ 1'),
  sigterm_grace_s: Seconds,
};
export const LifecyclePolicies = z
  .strictObject(perUserPolicyKeys)
  .partial()
  .describe('a map of lifecycle thresholds');
export type LifecyclePolicies = z.infer<typeof LifecyclePolicies>;

/** The global `policies` section: the per-user thresholds plus host-wide lifecycle settings. */
export const GlobalPolicies = z
  .strictObject({
    ...perUserPolicyKeys,
    high_demand_threshold: Fraction,
    high_demand_idle_reduction: Fraction,
    grace_period_m: Minutes,
    keepalive_max_duration_h: Hours,
    gpu_hold_after_manual_stop_m: Minutes,
    created_container_timeout_m: Minutes,
    // Before the units moved into the key names (a2885ac, 2026-04): no longer read by ds01-infra.
    sigterm_grace_seconds: Seconds,
    grace_period: LegacyDuration,
    keepalive_max_duration: LegacyDuration,
    gpu_hold_after_manual_stop: LegacyDuration,
    created_container_timeout: LegacyDuration,
    // Planned and never implemented (TODO-NOT-IMPLEMENTED in ds01-infra).
    auto_stop_idle: Bool,
    checkpoint_warning: LegacyDuration,
    require_workspace_mount: Bool,
    enforce_storage_quotas: Bool,
    soft_limit_threshold: Fraction,
    graceful_errors: Bool,
    suggest_alternatives: Bool,
    max_containers_per_user: CountOrUnlimited,
  })
  .partial()
  .describe('a map of lifecycle policies');

/**
 * The keys of one user's limits: valid in `defaults`, in `groups.<name>` and in a user override.
 * Aliases (first key present wins, see keys.ts) and keys that are no longer read are listed too:
 * a lab's older file must still load.
 */
export const userLimitKeys = {
  max_gpu_equivalents: GpuEquivalents,
  max_gpu_slots: GpuEquivalents,
  max_gpus_per_user: GpuEquivalents,
  max_mig_instances: GpuEquivalents,
  max_gpu_slots_per_container: SlotCap,
  max_gpus_per_container: SlotCap,
  max_mig_per_container: SlotCap,
  allow_full_gpu: Bool,
  priority: Count,
  max_cpus: z.number().gt(0).describe('a number of CPU cores > 0'),
  cpus: z.number().gt(0).describe('a number of CPU cores > 0'),
  memory: DockerSize,
  memory_swap: DockerSizeOrUnlimited,
  shm_size: DockerSize,
  pids_limit: z.union([Count, z.literal(-1)]).describe('a whole number ≥ 0, or -1 for unlimited'),
  storage_tmp: StorageSize,
  storage_workspace: StorageSize,
  storage_data: StorageSize,
  max_containers_per_user: CountOrUnlimited,
  max_runtime_h: Hours,
  idle_timeout_h: Hours,
  gpu_hold_after_stop_h: Hours,
  container_hold_after_stop_h: Hours,
  max_tasks: CountOrUnlimited,
  // Renamed in a2885ac/63de5f7 (2026-04-02) with no alias: ds01-infra no longer reads these.
  max_runtime: LegacyDuration,
  idle_timeout: LegacyDuration,
  gpu_hold_after_stop: LegacyDuration,
  container_hold_after_stop: LegacyDuration,
  // Written in older files, never read by any version.
  gpu_memory: z.number().min(0).nullable().describe('a number of GB ≥ 0, or null'),
  io_read_bps: StorageSize,
  io_write_bps: StorageSize,
  ulimit_nofile: Count,
  gpus: z.union([Count, z.literal('all')]).describe('a whole number ≥ 0, or "all"'),
  gpu_time_limit: LegacyDuration,
  max_concurrent_containers: Count,
};

export const Defaults = z.strictObject(userLimitKeys).partial().describe('a map of per-user limits');

export const Group = z
  .strictObject({
    ...userLimitKeys,
    /** Inline members, unioned with groups/<name>.members. */
    members: Names,
    aggregate: Aggregate.nullable(),
    policies: LifecyclePolicies,
    // Set directly on a group in 2025-11 files, before `policies` existed; never read since.
    gpu_idle_threshold: Percent,
  })
  .partial()
  .describe("a map of the group's limits");
export type Group = z.infer<typeof Group>;

export const Override = z
  .strictObject({
    ...userLimitKeys,
    /** null lifts the aggregate of the user's group. */
    aggregate: Aggregate.nullable(),
    policies: LifecyclePolicies,
    // The reservation example of the first file (2025-10); never implemented.
    reservation_start: z.union([z.string(), z.date()]).describe('a date and time'),
    reservation_end: z.union([z.string(), z.date()]).describe('a date and time'),
    reserved_gpus: z.array(z.union([Count, z.string()])).describe('a list of GPU indexes'),
    reason: Text,
  })
  .partial()
  .describe("a map of the user's limits");
export type Override = z.infer<typeof Override>;

const containerTypeKeys = {
  idle_timeout_h: Hours,
  max_runtime_h: Hours,
  sigterm_grace_s: Seconds,
  idle_timeout: LegacyDuration,
  max_runtime: LegacyDuration,
  sigterm_grace_seconds: Seconds,
  /** Removed in d2f62ad: GPU caps come from the user's group only. */
  default_mig_count: z.record(z.string(), z.int().min(0).nullable()).describe('a map of group → count'),
};
const ContainerType = z
  .strictObject(containerTypeKeys)
  .partial()
  .nullable()
  .describe('a map of lifecycle limits');

/** Lifecycle of containers made outside the ds01 CLI, per origin (ds01-infra's classification). */
export const ContainerTypes = z
  .strictObject({
    devcontainer: ContainerType,
    compose: ContainerType,
    docker: ContainerType,
    api: ContainerType,
    unknown: ContainerType,
  })
  .partial()
  .nullable()
  .describe('a map of container type → lifecycle limits');

const GpuAllocation = z
  .strictObject({
    slots_per_gpu: z.int().min(1).describe('a whole number ≥ 1'),
    mig_instances_per_gpu: z.int().min(1).describe('a whole number ≥ 1'),
    strategy: Text,
    allocation_method: Text,
    enable_mig: Bool,
    mig_strategy: Text,
    mig_profile: z.string().nullable().describe('a MIG profile like "2g.20gb"'),
    mig_gpus: z
      .record(
        z.string(),
        z
          .strictObject({
            enable: Bool,
            profile: z.string().nullable().describe('a MIG profile like "1g.10gb", or null'),
            instances: Count,
          })
          .partial(),
      )
      .describe('a map of GPU index → MIG layout'),
    respect_reservations: Bool,
    allow_multi_gpu: Bool,
    pin_gpu: Bool,
  })
  .partial()
  .nullable()
  .describe('a map of GPU allocation settings');

const Enforcement = z
  .strictObject({
    aggregate_limits: Bool,
    cgroup_driver: z.enum(['systemd', 'cgroupfs']).describe('"systemd" or "cgroupfs"'),
  })
  .partial()
  .nullable()
  .describe('a map of enforcement settings');

const Monitoring = z
  .strictObject({ infrastructure_containers: Names, infrastructure_label: Text })
  .partial()
  .nullable()
  .describe('a map of monitoring settings');

const BareMetalAccess = z
  .strictObject({
    exempt_users: Names,
    admin_group: Text,
    default_grant_duration_h: z.number().min(0).describe('a number of hours ≥ 0'),
    default_grant_duration: LegacyDuration,
    state_dir: Text,
  })
  .partial()
  .nullable()
  .describe('a map of bare-metal GPU access settings');

const AccessControl = z
  .strictObject({
    admin_users: Names,
    admin_group: Text,
    wrapper: z
      .strictObject({
        enforcement_mode: z
          .enum(['disabled', 'monitoring', 'full'])
          .describe('"disabled", "monitoring" or "full"'),
        debug_level: z.union([z.literal(0), z.literal(1), z.literal(2)]).describe('0, 1 or 2'),
        unknown_commands: z.enum(['allow', 'deny']).describe('"allow" or "deny"'),
      })
      .partial()
      .nullable()
      .describe('a map of docker wrapper settings'),
  })
  .partial()
  .nullable()
  .describe('a map of access control settings');

/** Removed from the file in 2025-12 (never implemented); older files still carry them. */
const Advanced = z
  .strictObject({
    enable_mps: Bool,
    network_mode: Text,
    restart_policy: Text,
    enable_mig: Bool,
    log_retention_days: Count,
    log_archive_days: Count,
  })
  .partial()
  .nullable()
  .describe('a map (legacy, not read)');

const Wizard = z
  .strictObject({
    default_mig_count: Count,
    recommended_mig_count: Count,
    max_mig_warning_threshold: Count,
    error_messages: z.record(z.string(), z.string()).describe('a map of message name → text'),
  })
  .partial()
  .nullable()
  .describe('a map (legacy, not read)');

/** `resource-limits.yaml`. */
export const ResourceLimitsFile = z
  .strictObject({
    defaults: Defaults,
    default_group: Text,
    enforcement: Enforcement,
    groups: z.record(z.string(), Group).nullable().describe('a map of group name → limits'),
    /** Inline overrides (older files); user-overrides.yaml wins per user. */
    user_overrides: z.record(z.string(), Override).nullable().describe('a map of username → limits'),
    gpu_allocation: GpuAllocation,
    policies: GlobalPolicies,
    container_types: ContainerTypes,
    monitoring: Monitoring,
    bare_metal_access: BareMetalAccess,
    access_control: AccessControl,
    advanced: Advanced,
    wizard: Wizard,
  })
  .partial()
  .describe('a map of resource-limit sections');
export type ResourceLimitsFile = z.infer<typeof ResourceLimitsFile>;

/** `user-overrides.yaml`: username → limits. An empty file is no overrides. */
export const UserOverridesFile = z
  .record(z.string(), Override)
  .nullable()
  .describe('a map of username → limits');
export type UserOverridesFile = z.infer<typeof UserOverridesFile>;

export const ExemptFrom = z.enum(['idle_timeout_h', 'max_runtime_h']);

/**
 * One lifecycle exemption. `expires_on` needs a time zone: ds01-infra compares it with an aware
 * "now", and a naive datetime makes it ignore the whole file.
 */
export const Exemption = z
  .strictObject({
    username: z.string().min(1).describe('a username'),
    category: z.enum(['research_grant', 'waiver']).describe('"research_grant" or "waiver"'),
    exempt_from: z
      .array(ExemptFrom.describe('idle_timeout_h or max_runtime_h'))
      .describe('a list of idle_timeout_h, max_runtime_h'),
    reason: z.string().describe('text'),
    approved_by: z.string().describe('a username'),
    approved_on: z.union([z.string(), z.date()]).describe('a date like "2026-02-14"'),
    expires_on: z
      .union([z.iso.datetime({ offset: true }), z.date(), z.null()])
      .describe('a date and time with a zone like "2026-06-30T23:59:59Z", or null for permanent'),
  })
  .partial({ category: true, reason: true, approved_by: true, approved_on: true, expires_on: true })
  .describe('a map with username, exempt_from, reason, approved_by, approved_on, expires_on');
export type Exemption = z.infer<typeof Exemption>;

/** `lifecycle-exemptions.yaml`. */
export const ExemptionsFile = z
  .strictObject({ exemptions: z.array(Exemption).nullable().describe('a list of exemptions') })
  .partial()
  .nullable()
  .describe('a map with an exemptions list');
export type ExemptionsFile = z.infer<typeof ExemptionsFile>;
