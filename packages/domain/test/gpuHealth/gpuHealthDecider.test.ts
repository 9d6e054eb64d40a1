import { describe, it } from 'vitest';
import {
  DEFAULT_GPU_HEALTH_THRESHOLDS,
  GpuHealthDegraded,
  type GpuHealthReading,
  GpuHealthRecovered,
  gpuHealthDecider,
} from '../../src/index.ts';
import { DeciderSpecification } from '../../src/testing/deciderSpecification.ts';

const spec = DeciderSpecification.for(gpuHealthDecider);
const now = new Date('2026-12-03T12:00:00Z');
const healthy: GpuHealthReading = {
  gpuIndex: 0,
  uuid: 'GPU-0',
  temperatureC: 40,
  eccVolatileUncorrectable: 0,
  // The K80 capture's lifetime count: a GPU with an old error is not degraded by default.
  eccAggregateUncorrectable: 7,
  retiredPages: 2,
  retiredPagesPending: false,
  lastXid: 0,
  throttleReasons: ['gpu_idle'],
};
const record = (reading: Partial<GpuHealthReading>) => ({
  type: 'RecordGpuHealth' as const,
  readings: [{ ...healthy, ...reading }],
  thresholds: DEFAULT_GPU_HEALTH_THRESHOLDS,
  now,
});
const hot = GpuHealthDegraded({
  gpuIndex: 0,
  uuid: 'GPU-0',
  problems: [{ check: 'temperature', value: 90, threshold: 87 }],
  at: '2026-12-03T11:00:00.000Z',
});

describe('GPU health decider', () => {
  it('records nothing for a healthy GPU', () => {
    spec.given([]).when(record({})).thenNothingHappened();
  });

  it('records a degradation once, with what crossed which threshold', () => {
    spec
      .given([])
      .when(record({ temperatureC: 90, throttleReasons: ['gpu_idle', 'hw_thermal_slowdown'] }))
      .then([
        GpuHealthDegraded({
          gpuIndex: 0,
          uuid: 'GPU-0',
          problems: [
            { check: 'temperature', value: 90, threshold: 87 },
            {
              check: 'throttling',
              value: 'hw_thermal_slowdown',
              threshold: DEFAULT_GPU_HEALTH_THRESHOLDS.throttleReasons.join(','),
            },
          ],
          at: now.toISOString(),
        }),
      ]);
    spec
      .given([hot])
      .when(record({ temperatureC: 95 }))
      .thenNothingHappened();
  });

  it('records the new set of problems when it changes while degraded', () => {
    spec
      .given([hot])
      .when(record({ temperatureC: 90, lastXid: 79 }))
      .then([
        GpuHealthDegraded({
          gpuIndex: 0,
          uuid: 'GPU-0',
          problems: [
            { check: 'temperature', value: 90, threshold: 87 },
            { check: 'xid', value: 79, threshold: DEFAULT_GPU_HEALTH_THRESHOLDS.xids.join(',') },
          ],
          at: now.toISOString(),
        }),
      ]);
  });

  it('records the recovery with since when it was degraded', () => {
    spec
      .given([hot])
      .when(record({}))
      .then([
        GpuHealthRecovered({
          gpuIndex: 0,
          uuid: 'GPU-0',
          degradedSince: '2026-12-03T11:00:00.000Z',
          at: now.toISOString(),
        }),
      ]);
  });

  it('treats unknown readings as no evidence either way', () => {
    spec
      .given([])
      .when(
        record({
          temperatureC: null,
          eccVolatileUncorrectable: null,
          retiredPages: null,
          retiredPagesPending: null,
          lastXid: null,
          throttleReasons: null,
        }),
      )
      .thenNothingHappened();
  });
});
