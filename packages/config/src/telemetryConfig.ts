import { type GpuHealthThresholds, DEFAULT_GPU_HEALTH_THRESHOLDS as HEALTH } from '@ds01/domain';
import { Ds01Error } from '@ds01/errors';
import { z } from 'zod';

const DAY_SECONDS = 86_400;

const BareMetalPolicy = z.enum(['allow', 'warn', 'stop']).describe('"allow", "warn" or "stop"');

/**
 * The `telemetry:` section of ds01.yaml: usage windows, dcgm-exporter, GPU health thresholds, what
 * to do about GPU processes on the host itself, and the cgroup sampler. Every key has a default.
 */
export const TelemetryConfig = z.strictObject({
  /** Length of a usage window; windows are clock-aligned, so it must divide a day. */
  window_seconds: z
    .number()
    .int()
    .positive()
    .refine((seconds) => DAY_SECONDS % seconds === 0, 'must divide a day (60, 300, 600, 900, 3600 ...)')
    .default(300),
  /** dcgm-exporter's metrics URL (http://localhost:9400/metrics); null: not read (MIG activity unknown). */
  dcgm_exporter_url: z
    .url({ protocol: /^https?$/ })
    .nullable()
    .default(null),
  dcgm_timeout_seconds: z.number().positive().default(5),
  /** GPU health thresholds; null switches a check off (defaults: packages/domain/src/gpuHealth). */
  health: z
    .strictObject({
      temperature_c: z.number().nullable().default(HEALTH.temperatureC),
      ecc_volatile_uncorrectable: z
        .number()
        .int()
        .positive()
        .nullable()
        .default(HEALTH.eccVolatileUncorrectable),
      ecc_aggregate_uncorrectable: z
        .number()
        .int()
        .positive()
        .nullable()
        .default(HEALTH.eccAggregateUncorrectable),
      retired_pages: z.number().int().positive().nullable().default(HEALTH.retiredPages),
      retired_pages_pending: z.boolean().default(HEALTH.retiredPagesPending),
      xids: z.array(z.number().int().positive()).default([...HEALTH.xids]),
      throttle_reasons: z.array(z.string().min(1)).default([...HEALTH.throttleReasons]),
    })
    .prefault({}),
  /**
   * GPU processes on the host, outside any container: `allow` records them, `warn` also tells the
   * user, `stop` warns, then ends them (SIGTERM, SIGKILL after grace_seconds). Per user and per DS01
   * group (groups/<group>.members): a user's own setting wins, then the most lenient of their
   * groups', then the default. resource-limits.yaml `bare_metal_access` (exempt users, grants)
   * allows on top of this.
   */
  host_processes: z
    .strictObject({
      policy: BareMetalPolicy.default('warn'),
      grace_seconds: z.number().positive().default(30),
      users: z.record(z.string().min(1), BareMetalPolicy).default({}),
      groups: z.record(z.string().min(1), BareMetalPolicy).default({}),
    })
    .prefault({}),
  cgroups: z
    .strictObject({
      /** Where the cgroup hierarchy is mounted. */
      root: z.string().min(1).default('/sys/fs/cgroup'),
      interval_seconds: z.number().positive().default(15),
    })
    .prefault({}),
});
export type TelemetryConfig = z.output<typeof TelemetryConfig>;

/** The section to compose into ds01.yaml's schema. */
export const telemetrySection = { telemetry: TelemetryConfig.nullish() };

/** The `telemetry:` section of the validated ds01.yaml (defaults when absent). */
export function telemetryConfigOf(yaml: object): TelemetryConfig {
  const parsed = TelemetryConfig.safeParse((yaml as { telemetry?: unknown }).telemetry ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new Ds01Error(`ds01.yaml telemetry.${issue.path.join('.')}: ${issue.message}`, {
    hint: 'fix the telemetry: section of ds01.yaml (`ds01 config check` names each problem)',
  });
}

/** The health thresholds as the GPU health decider takes them. */
export function gpuHealthThresholdsOf(config: TelemetryConfig): GpuHealthThresholds {
  const health = config.health;
  return {
    temperatureC: health.temperature_c,
    eccVolatileUncorrectable: health.ecc_volatile_uncorrectable,
    eccAggregateUncorrectable: health.ecc_aggregate_uncorrectable,
    retiredPages: health.retired_pages,
    retiredPagesPending: health.retired_pages_pending,
    xids: health.xids,
    throttleReasons: health.throttle_reasons,
  };
}
