import type { Decider } from '@ds01/event-store';
import type { EventOf } from '../events/defineEvent.ts';
import {
  type GpuHealthCheck,
  GpuHealthDegraded,
  type GpuHealthProblem,
  GpuHealthRecovered,
  type gpuHealthEvents,
} from './events.ts';

/**
 * Thresholds of ds01.yaml `telemetry.health` (null: the check is off). Defaults: NVIDIA's guidance —
 * any uncorrectable ECC error since the driver loaded, a page retirement pending (the GPU needs a
 * reset), 60 retired pages (NVIDIA's replacement threshold), the XIDs of hardware faults, and the
 * throttle reasons that mean heat or a power brake rather than a policy.
 */
export interface GpuHealthThresholds {
  temperatureC: number | null;
  eccVolatileUncorrectable: number | null;
  eccAggregateUncorrectable: number | null;
  retiredPages: number | null;
  retiredPagesPending: boolean;
  /** XID error numbers that degrade a GPU (48 DBE, 63/64 row remapping, 74 NVLink, 79 off the bus, 92/94/95 ECC). */
  xids: readonly number[];
  throttleReasons: readonly string[];
}

export const DEFAULT_GPU_HEALTH_THRESHOLDS: GpuHealthThresholds = {
  temperatureC: 87,
  eccVolatileUncorrectable: 1,
  eccAggregateUncorrectable: null,
  retiredPages: 60,
  retiredPagesPending: true,
  xids: [48, 63, 64, 74, 79, 92, 94, 95],
  throttleReasons: ['hw_slowdown', 'hw_thermal_slowdown', 'hw_power_brake_slowdown', 'sw_thermal_slowdown'],
};

/** One GPU's health readings in one sample; null: not known (not supported, ECC off, no DCGM). */
export interface GpuHealthReading {
  gpuIndex: number;
  uuid: string;
  temperatureC: number | null;
  eccVolatileUncorrectable: number | null;
  eccAggregateUncorrectable: number | null;
  retiredPages: number | null;
  retiredPagesPending: boolean | null;
  /** The last XID error (DCGM_FI_DEV_XID_ERRORS); 0 or null: none known. */
  lastXid: number | null;
  throttleReasons: readonly string[] | null;
}

export interface RecordGpuHealth {
  type: 'RecordGpuHealth';
  readings: readonly GpuHealthReading[];
  thresholds: GpuHealthThresholds;
  now: Date;
}

export type GpuHealthEvent = EventOf<(typeof gpuHealthEvents)[number]>;

export interface GpuHealthState {
  /** Degraded GPUs by UUID: since when, and the checks they fail. */
  degraded: ReadonlyMap<string, { since: string; checks: readonly GpuHealthCheck[] }>;
}

/** The problems of one reading against the thresholds, in check order. */
export function healthProblemsOf(reading: GpuHealthReading, t: GpuHealthThresholds): GpuHealthProblem[] {
  const problems: GpuHealthProblem[] = [];
  const atLeast = (check: GpuHealthCheck, value: number | null, threshold: number | null) => {
    if (value !== null && threshold !== null && value >= threshold)
      problems.push({ check, value, threshold });
  };
  atLeast('temperature', reading.temperatureC, t.temperatureC);
  atLeast('ecc-volatile-uncorrectable', reading.eccVolatileUncorrectable, t.eccVolatileUncorrectable);
  atLeast('ecc-aggregate-uncorrectable', reading.eccAggregateUncorrectable, t.eccAggregateUncorrectable);
  atLeast('retired-pages', reading.retiredPages, t.retiredPages);
  if (t.retiredPagesPending && reading.retiredPagesPending === true)
    problems.push({ check: 'retired-pages-pending', value: 'yes', threshold: 'pending' });
  if (reading.lastXid !== null && t.xids.includes(reading.lastXid))
    problems.push({ check: 'xid', value: reading.lastXid, threshold: t.xids.join(',') });
  const throttled = (reading.throttleReasons ?? []).filter((reason) => t.throttleReasons.includes(reason));
  if (throttled.length > 0)
    problems.push({
      check: 'throttling',
      value: throttled.join(','),
      threshold: t.throttleReasons.join(','),
    });
  return problems;
}

/**
 * Appends a GPU's health only when it changes: degraded when it starts failing a check (or fails
 * another set of checks), recovered when it passes them all. A GPU missing from the readings (lost,
 * probe failed) keeps the health it had: the inventory stream says it is gone.
 */
export function decideGpuHealth(command: RecordGpuHealth, state: GpuHealthState): GpuHealthEvent[] {
  const at = command.now.toISOString();
  return command.readings.flatMap((reading): GpuHealthEvent[] => {
    const problems = healthProblemsOf(reading, command.thresholds);
    const was = state.degraded.get(reading.uuid);
    const ref = { gpuIndex: reading.gpuIndex, uuid: reading.uuid };
    if (problems.length === 0) {
      return was ? [GpuHealthRecovered({ ...ref, degradedSince: was.since, at })] : [];
    }
    const checks = problems.map((problem) => problem.check);
    if (was && sameChecks(was.checks, checks)) return [];
    return [GpuHealthDegraded({ ...ref, problems, at })];
  });
}

function sameChecks(a: readonly GpuHealthCheck[], b: readonly GpuHealthCheck[]): boolean {
  return a.length === b.length && a.every((check, i) => check === b[i]);
}

export function evolveGpuHealth(state: GpuHealthState, event: GpuHealthEvent): GpuHealthState {
  const degraded = new Map(state.degraded);
  if (event.type === 'GpuHealthRecovered') degraded.delete(event.data.uuid);
  else {
    const since = degraded.get(event.data.uuid)?.since ?? event.data.at;
    degraded.set(event.data.uuid, { since, checks: event.data.problems.map((problem) => problem.check) });
  }
  return { degraded };
}

export const gpuHealthDecider: Decider<RecordGpuHealth, GpuHealthEvent, GpuHealthState> = {
  decide: decideGpuHealth,
  evolve: evolveGpuHealth,
  initialState: () => ({ degraded: new Map() }),
};
