import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { Instant } from '../values.ts';

/** GPU health of one host: degraded and recovered, per GPU. Appended on change only. */
export const gpuHealthStream = (host: string) => `gpu-health-${host}`;

/** What is checked, each against a threshold of ds01.yaml `telemetry.health`. */
export const GpuHealthCheck = z.enum([
  'temperature',
  'ecc-volatile-uncorrectable',
  'ecc-aggregate-uncorrectable',
  'retired-pages',
  'retired-pages-pending',
  'xid',
  'throttling',
]);
export type GpuHealthCheck = z.infer<typeof GpuHealthCheck>;

export const GpuHealthProblemSchema = z.strictObject({
  check: GpuHealthCheck,
  /** What was read: °C, an error count, an XID number, the active throttle reasons. */
  value: z.union([z.number(), z.string()]),
  /** The threshold it crossed, as configured. */
  threshold: z.union([z.number(), z.string()]),
});
export type GpuHealthProblem = z.infer<typeof GpuHealthProblemSchema>;

const GpuRef = {
  gpuIndex: z.number().int().nonnegative(),
  uuid: z.string().min(1),
};

/**
 * A GPU crossed one of its health thresholds, or the set of checks it fails changed while it was
 * degraded (`problems` is the whole set now). Allocation and admins read it; nothing is stopped.
 */
export const GpuHealthDegraded = defineEvent({
  type: 'GpuHealthDegraded',
  schema: z.strictObject({
    ...GpuRef,
    problems: z.array(GpuHealthProblemSchema).min(1),
    at: Instant,
  }),
});

/** A degraded GPU passes every check again. */
export const GpuHealthRecovered = defineEvent({
  type: 'GpuHealthRecovered',
  schema: z.strictObject({
    ...GpuRef,
    degradedSince: Instant,
    at: Instant,
  }),
});

export const gpuHealthEvents = [GpuHealthDegraded, GpuHealthRecovered] as const;
