import { Ds01Error } from '@ds01/errors';
import { z } from 'zod';

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a UTC day like 2026-01-01');

/**
 * The `analytics:` section of ds01.yaml: what turns usage into impact.
 * - grid_intensity_g_per_kwh: grams of CO2 per kWh of the grid the lab draws from; either one number
 *   or a list of `{ from: YYYY-MM-DD, g_per_kwh }` (each holds from its day until the next one's).
 */
export const AnalyticsConfig = z.strictObject({
  grid_intensity_g_per_kwh: z
    .union([
      z.number().nonnegative(),
      z
        .array(z.strictObject({ from: Day, g_per_kwh: z.number().nonnegative() }))
        .min(1)
        .refine(
          (ranges) => ranges.every((r, i) => i === 0 || ranges[i - 1]!.from < r.from),
          'ranges must be in order of their `from` day, each day once',
        ),
    ])
    // Germany's grid mix, 2024 (Umweltbundesamt: 363 g/kWh): a default that is honest about being one.
    .default(363),
});
export type AnalyticsConfig = z.output<typeof AnalyticsConfig>;

/**
 * The `exporter:` section: where the Prometheus exporter listens ($DS01_EXPORTER_PORT and
 * $DS01_EXPORTER_BIND win, as in ds01-infra).
 */
export const ExporterConfig = z.strictObject({
  port: z.number().int().min(0).max(65535).default(9101),
  bind: z.string().min(1).default('127.0.0.1'),
});
export type ExporterConfig = z.output<typeof ExporterConfig>;

/** The `audit:` section: how often ds01d seals the log's hash chain (AuditSealed). */
export const AuditConfig = z.strictObject({
  seal_interval_minutes: z.number().positive().default(60),
});
export type AuditConfig = z.output<typeof AuditConfig>;

/** The sections of ds01.yaml for observability: analytics, exporter, audit. */
export const observabilitySections = {
  analytics: AnalyticsConfig.nullish(),
  exporter: ExporterConfig.nullish(),
  audit: AuditConfig.nullish(),
};

export function auditConfigOf(yaml: object): AuditConfig {
  return AuditConfig.parse((yaml as { audit?: unknown }).audit ?? {});
}

/** A grid intensity as ranges: `[{ from: '0000-01-01', gPerKwh }]` for a single number. */
export interface IntensityRange {
  from: string;
  gPerKwh: number;
}

export function analyticsConfigOf(yaml: object): AnalyticsConfig {
  return AnalyticsConfig.parse((yaml as { analytics?: unknown }).analytics ?? {});
}

export function intensityRanges(config: AnalyticsConfig): IntensityRange[] {
  const intensity = config.grid_intensity_g_per_kwh;
  if (typeof intensity === 'number') return [{ from: '0000-01-01', gPerKwh: intensity }];
  return intensity.map((r) => ({ from: r.from, gPerKwh: r.g_per_kwh }));
}

/** The exporter's address: env over ds01.yaml over the defaults (127.0.0.1:9101). */
export function exporterConfigOf(
  yaml: object,
  env: Record<string, string | undefined> = process.env,
): ExporterConfig {
  const fromYaml = ExporterConfig.parse((yaml as { exporter?: unknown }).exporter ?? {});
  const port = env['DS01_EXPORTER_PORT'];
  if (port !== undefined && port !== '') {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      throw new Ds01Error(`DS01_EXPORTER_PORT='${port}' is not a port (0-65535)`, {
        hint: 'unset DS01_EXPORTER_PORT or give it a number, e.g. 9101',
      });
    }
    fromYaml.port = n;
  }
  if (env['DS01_EXPORTER_BIND']) fromYaml.bind = env['DS01_EXPORTER_BIND'];
  return fromYaml;
}
