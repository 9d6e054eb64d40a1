import { describe, expect, it } from 'vitest';
import { type GpuDeviceSample, GpuUsageWindows, type HolderOf } from '../../src/index.ts';

const alice = { containerId: 'c'.repeat(64), user: 'alice' };
const free = { containerId: null, user: null };
const holderOf: HolderOf = (device) => (device.slot === '1.0' ? alice : free);

const whole: GpuDeviceSample = {
  device: { gpuIndex: 0, slot: '0', uuid: 'GPU-0', migProfile: null },
  gpuEquivalents: 1,
  gpuUtilization: 50,
  grEngineActive: null,
  smActive: null,
  dramActive: null,
  memoryUsedBytes: 1000,
  powerWatts: 100,
  processes: [],
};
const slice = (slot: string, grEngineActive: number | null, profile = '3g.40gb'): GpuDeviceSample => ({
  device: { gpuIndex: 1, slot, uuid: `MIG-${slot}`, migProfile: profile },
  gpuEquivalents: Number(profile[0]) / 7,
  gpuUtilization: null,
  grEngineActive,
  smActive: null,
  dramActive: null,
  memoryUsedBytes: null,
  powerWatts: null,
  processes: [],
});
const at = (time: string) => new Date(`2026-12-03T${time}Z`);

describe('GpuUsageWindows', () => {
  it('closes a clock-aligned window when a sample of the next one comes, with mean and max', () => {
    const windows = new GpuUsageWindows({ host: 'gpu1' });
    const energy = new Map<number, number | null>();
    expect(
      windows.add({ at: at('12:00:10'), devices: [whole], energyMillijoulesByGpu: energy }, holderOf),
    ).toEqual([]);
    windows.add(
      {
        at: at('12:04:59'),
        devices: [{ ...whole, gpuUtilization: 100, memoryUsedBytes: 3000, powerWatts: 200 }],
        energyMillijoulesByGpu: energy,
      },
      holderOf,
    );
    const [closed, ...more] = windows.add(
      { at: at('12:05:00'), devices: [whole], energyMillijoulesByGpu: energy },
      holderOf,
    );
    expect(more).toEqual([]);
    expect(closed).toEqual({
      host: 'gpu1',
      windowStart: '2026-12-03T12:00:00.000Z',
      windowEnd: '2026-12-03T12:05:00.000Z',
      device: whole.device,
      holder: free,
      samples: 2,
      gpuUtilization: { mean: 75, max: 100 },
      grEngineActive: null,
      smActive: null,
      dramActive: null,
      memoryUsedMaxBytes: 3000,
      powerMeanWatts: 150,
      energyJoules: null,
      processes: [],
    });
    expect(windows.current?.start).toBe('2026-12-03T12:05:00.000Z');
  });

  it('keeps an activity nobody measured unknown (null), never idle', () => {
    const windows = new GpuUsageWindows({ host: 'gpu1', windowMs: 60_000 });
    windows.add(
      { at: at('12:00:00'), devices: [slice('1.0', null)], energyMillijoulesByGpu: new Map() },
      holderOf,
    );
    const [closed] = windows.close(holderOf);
    expect(closed).toMatchObject({ holder: alice, gpuUtilization: null, grEngineActive: null, samples: 1 });
  });

  it("apportions a GPU's energy counter among its MIG slices by size times activity", () => {
    const windows = new GpuUsageWindows({ host: 'gpu1', windowMs: 60_000 });
    const sample = (time: string, mj: number) =>
      windows.add(
        {
          at: at(time),
          devices: [slice('1.0', 0.9), slice('1.1', 0.3)],
          energyMillijoulesByGpu: new Map([[1, mj]]),
        },
        holderOf,
      );
    sample('12:00:00', 1_000_000);
    sample('12:00:30', 1_030_000);
    const closed = sample('12:01:00', 1_060_000);
    // 30 J over the window; 3g slices both, activity 0.9 : 0.3.
    expect(closed.map((window) => window.energyJoules)).toEqual([22.5, 7.5]);
    // The next window starts from the counter at the end of this one: 60_000 → 90_000 mJ is 30 J.
    sample('12:01:30', 1_090_000);
    expect(windows.close(holderOf).reduce((sum, window) => sum + window.energyJoules!, 0)).toBeCloseTo(60);
  });

  it('splits by size alone when every slice was idle, and knows no energy after a counter reset', () => {
    const windows = new GpuUsageWindows({ host: 'gpu1', windowMs: 60_000 });
    const devices = [slice('1.0', 0, '4g.40gb'), slice('1.1', 0, '3g.40gb')];
    windows.add({ at: at('12:00:00'), devices, energyMillijoulesByGpu: new Map([[1, 0]]) }, holderOf);
    windows.add({ at: at('12:00:30'), devices, energyMillijoulesByGpu: new Map([[1, 7000]]) }, holderOf);
    const closed = windows.add(
      { at: at('12:01:00'), devices, energyMillijoulesByGpu: new Map([[1, 100]]) },
      holderOf,
    );
    expect(closed.map((window) => window.energyJoules)).toEqual([4, 3]);
    expect(windows.close(holderOf).map((window) => window.energyJoules)).toEqual([null, null]);
  });

  it('lists each process once with its largest memory', () => {
    const windows = new GpuUsageWindows({ host: 'gpu1' });
    const process = (memoryBytes: number | null) => ({ pid: 7, containerId: null, user: 'bob', memoryBytes });
    for (const memory of [10, 30, null, 20]) {
      windows.add(
        {
          at: at('12:00:00'),
          devices: [{ ...whole, processes: [process(memory)] }],
          energyMillijoulesByGpu: new Map(),
        },
        holderOf,
      );
    }
    expect(windows.close(holderOf)[0]!.processes).toEqual([
      { pid: 7, containerId: null, user: 'bob', memoryMaxBytes: 30 },
    ]);
  });
});
