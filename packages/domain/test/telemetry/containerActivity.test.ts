import { describe, expect, it } from 'vitest';
import {
  type ContainerResourceWindowData,
  containerActivityOf,
  type GpuUsageWindowData,
  gpuActivityOf,
} from '../../src/index.ts';

const a = 'a'.repeat(64);
const b = 'b'.repeat(64);
const windowStart = '2026-12-03T12:00:00.000Z';
const gpuWindow = (over: Partial<GpuUsageWindowData>): GpuUsageWindowData => ({
  host: 'gpu1',
  windowStart,
  windowEnd: '2026-12-03T12:05:00.000Z',
  device: { gpuIndex: 0, slot: '0', uuid: 'GPU-0', migProfile: null },
  holder: { containerId: a, user: 'alice' },
  samples: 20,
  gpuUtilization: null,
  grEngineActive: null,
  smActive: null,
  dramActive: null,
  memoryUsedMaxBytes: null,
  powerMeanWatts: null,
  energyJoules: null,
  processes: [],
  ...over,
});

describe('container activity from usage windows', () => {
  it('prefers GR_ENGINE_ACTIVE, takes utilisation only of a whole GPU, and keeps unknown null', () => {
    expect(
      gpuActivityOf(
        gpuWindow({ grEngineActive: { mean: 0.2, max: 0.5 }, gpuUtilization: { mean: 90, max: 100 } }),
      ),
    ).toBe(0.2);
    expect(gpuActivityOf(gpuWindow({ gpuUtilization: { mean: 40, max: 100 } }), { measure: 'max' })).toBe(1);
    const mig = { gpuIndex: 1, slot: '1.0', uuid: 'MIG-1', migProfile: '3g.40gb' };
    expect(gpuActivityOf(gpuWindow({ device: mig, gpuUtilization: { mean: 0, max: 0 } }))).toBeNull();
    expect(gpuActivityOf(gpuWindow({}))).toBeNull();
  });

  it('answers how much did work with SM_ACTIVE where DCGM has it, else as whether it was busy', () => {
    const busyOneSm = gpuWindow({
      grEngineActive: { mean: 1, max: 1 },
      gpuUtilization: { mean: 100, max: 100 },
    });
    expect(gpuActivityOf({ ...busyOneSm, smActive: { mean: 0.05 } }, { signal: 'work' })).toBe(0.05);
    expect(gpuActivityOf({ ...busyOneSm, smActive: { mean: 0.05 } })).toBe(1);
    expect(gpuActivityOf(busyOneSm, { signal: 'work' })).toBe(1);
    const mig = { gpuIndex: 1, slot: '1.0', uuid: 'MIG-1', migProfile: '3g.40gb' };
    expect(gpuActivityOf(gpuWindow({ device: mig }), { signal: 'work' })).toBeNull();
  });

  it('joins the GPU windows of held devices and of processes with the cgroup window', () => {
    const cgroup = { containerId: b, windowStart, cpuMeanCores: 1.5, networkRxBytes: 10, networkTxBytes: 5 };
    const activity = containerActivityOf(
      [
        gpuWindow({ grEngineActive: { mean: 0.1, max: 0.3 } }),
        gpuWindow({
          device: { gpuIndex: 1, slot: '1.0', uuid: 'MIG-1', migProfile: '3g.40gb' },
          holder: { containerId: null, user: null },
          processes: [{ pid: 9, containerId: b, user: 'bob', memoryMaxBytes: 1 }],
        }),
      ],
      [cgroup as ContainerResourceWindowData],
    );
    expect(activity).toEqual([
      {
        containerId: a,
        windowStart,
        gpuDevices: 1,
        gpuActivityMax: 0.3,
        gpuUnknownDevices: 0,
        cpuMeanCores: null,
        networkBytes: null,
      },
      {
        containerId: b,
        windowStart,
        gpuDevices: 1,
        gpuActivityMax: null,
        gpuUnknownDevices: 1,
        cpuMeanCores: 1.5,
        networkBytes: 15,
      },
    ]);
  });
});
