import type { LifecyclePolicy } from '@ds01/domain';
import type { LifecycleConfig } from '../lifecycleConfig.ts';
import { effectiveLimits } from './effectiveLimits.ts';
import { activeExemption } from './exemptions.ts';
import type { ResourceLimits } from './model.ts';

/** ds01-infra's hard-coded fallback for a type with no `container_types` entry (idle 0.25 h, runtime 24 h). */
const FALLBACK_TYPE = { idle_timeout_h: 0.25, max_runtime_h: 24, sigterm_grace_s: 30 };

/** Types whose containers came through DS01's (or ds01-infra's) own commands: the owner's limits apply. */
const NATIVE_TYPES = new Set(['atomic', 'orchestration']);

export interface ContainerFacts {
  /** The owner (null: unknown — the `unknown` type's rules and the default group's thresholds apply). */
  user: string | null;
  /** ds01-infra's container type (ds01.container_type, or as DS01 classified it). */
  type: string | null;
  managed: boolean;
}

/**
 * The lifecycle rules of one container, resolved from resource-limits.yaml as ds01-infra's lifecycle
 * scripts read it, with two deliberate differences (config/DIFFERENCES.md): `idle_timeout_h: null`
 * in `container_types` means no idle retirement (ds01-infra turns it into 0.5 h), and every type with
 * an entry (api included) uses it. Containers made by DS01 (atomic, orchestration, or managed) follow
 * their owner's idle_timeout_h and max_runtime_h; others their type's entry, else `unknown`'s, else
 * ds01-infra's fallback (0.25 h / 24 h). Thresholds are the owner's group policies.
 */
export function lifecyclePolicy(
  config: ResourceLimits,
  lifecycle: LifecycleConfig,
  container: ContainerFacts,
  now: Date,
): LifecyclePolicy {
  const limits = effectiveLimits(config, container.user ?? '');
  const global = config.file.policies ?? {};
  const types = config.file.container_types ?? {};
  const type = container.type ?? 'unknown';
  const native = container.managed || NATIVE_TYPES.has(type);
  const entry = native ? null : (types[type as keyof typeof types] ?? types.unknown ?? FALLBACK_TYPE);
  const idleHours = native ? limits.idle_timeout_h : entryValue(entry, 'idle_timeout_h');
  const runtimeHours = native ? limits.max_runtime_h : entryValue(entry, 'max_runtime_h');
  const grace =
    (entry && typeof entry.sigterm_grace_s === 'number' ? entry.sigterm_grace_s : undefined) ??
    (limits.sources.policies ? limits.policies.sigterm_grace_s : undefined) ??
    (typeof global.sigterm_grace_s === 'number' ? global.sigterm_grace_s : undefined) ??
    lifecycle.stop_grace_s;
  const exempt = (rule: 'idle_timeout_h' | 'max_runtime_h') => {
    if (!container.user) return null;
    const check = activeExemption(config, container.user, rule, now);
    return check.exempt ? check.reason : null;
  };
  return {
    idleTimeoutMinutes: positiveOrNull(idleHours, 60),
    maxRuntimeHours: positiveOrNull(runtimeHours, 1),
    gpuIdleThreshold: limits.policies.gpu_idle_threshold,
    cpuIdleThreshold: limits.policies.cpu_idle_threshold,
    networkIdleThreshold: limits.policies.network_idle_threshold,
    startGraceMinutes: numberOr(global.grace_period_m, 30),
    keepAliveMaxHours:
      global.keepalive_max_duration_h === null ? null : numberOr(global.keepalive_max_duration_h, 24),
    highDemandIdleReduction: Math.min(1, Math.max(0.01, numberOr(global.high_demand_idle_reduction, 0.5))),
    sigtermGraceSeconds: Math.round(grace),
    containerHoldAfterStopHours: limits.container_hold_after_stop_h,
    createdContainerTimeoutMinutes:
      global.created_container_timeout_m === null ? null : numberOr(global.created_container_timeout_m, 30),
    warningLeadMinutes: [...lifecycle.warnings_m],
    departedNoticeHours: lifecycle.departed_notice_h,
    exemptions: { idle: exempt('idle_timeout_h'), maxRuntime: exempt('max_runtime_h') },
  };
}

/** high_demand_threshold: the fraction of GPU slots allocated above which demand is high (0.8). */
export function highDemandThreshold(config: ResourceLimits): number {
  return numberOr(config.file.policies?.high_demand_threshold, 0.8);
}

function entryValue(
  entry: Record<string, unknown> | null,
  key: 'idle_timeout_h' | 'max_runtime_h',
): number | null {
  if (!entry || !(key in entry)) return FALLBACK_TYPE[key];
  const value = entry[key];
  return typeof value === 'number' ? value : null;
}

/** Hours as the policy's unit; 0 or null: no limit. */
function positiveOrNull(hours: number | null, perHour: number): number | null {
  return hours === null || hours <= 0 ? null : hours * perHour;
}

const numberOr = (value: unknown, fallback: number) => (typeof value === 'number' ? value : fallback);
