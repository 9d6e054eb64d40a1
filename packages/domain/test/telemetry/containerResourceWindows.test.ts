import { describe, expect, it } from 'vitest';
import { type ContainerCounters, ContainerResourceWindows } from '../../src/index.ts';

const id = 'c'.repeat(64);
const at = (time: string) => new Date(`2026-12-03T${time}Z`);
const counters = (over: Partial<ContainerCounters>): ContainerCounters => ({
  containerId: id,
  user: 'alice',
  cpuUsageNs: 0,
  memoryCurrentBytes: 100,
  memoryLimitBytes: 1000,
  ioReadBytes: 0,
  ioWriteBytes: 0,
  pids: 1,
  networkRxBytes: 0,
  networkTxBytes: 0,
  ...over,
});

describe('ContainerResourceWindows', () => {
  it('turns counters into what was used per window: CPU seconds, mean and max cores, IO, network', () => {
    const windows = new ContainerResourceWindows({ host: 'gpu1', windowMs: 60_000 });
    windows.add(at('12:00:00'), [counters({})]);
    // 15 s at 2 cores, then 15 s at 0 cores, then 30 s at 1 core.
    windows.add(at('12:00:15'), [
      counters({ cpuUsageNs: 30e9, memoryCurrentBytes: 500, ioReadBytes: 10, pids: 4, networkRxBytes: 7 }),
    ]);
    windows.add(at('12:00:30'), [
      counters({ cpuUsageNs: 30e9, memoryCurrentBytes: 300, ioReadBytes: 10, networkRxBytes: 9 }),
    ]);
    // The first sample of the next window closes this one.
    const [closed, ...more] = windows.add(at('12:01:00'), [
      counters({ cpuUsageNs: 60e9, ioWriteBytes: 5, networkRxBytes: 9, networkTxBytes: 3 }),
    ]);
    expect(more).toEqual([]);
    windows.add(at('12:01:15'), [
      counters({ cpuUsageNs: 60e9, ioWriteBytes: 5, networkRxBytes: 9, networkTxBytes: 3 }),
    ]);
    expect(closed).toEqual({
      host: 'gpu1',
      windowStart: '2026-12-03T12:00:00.000Z',
      windowEnd: '2026-12-03T12:01:00.000Z',
      containerId: id,
      user: 'alice',
      samples: 3,
      cpuSeconds: 30,
      cpuMeanCores: 1,
      cpuMaxCores: 2,
      memoryMaxBytes: 500,
      memoryLimitBytes: 1000,
      ioReadBytes: 10,
      ioWriteBytes: 0,
      pidsMax: 4,
      networkRxBytes: 9,
      networkTxBytes: 0,
    });
    // The delta ending at 12:01:00 belongs to the window it ends in.
    expect(windows.close()[0]).toMatchObject({
      samples: 2,
      cpuSeconds: 30,
      ioWriteBytes: 5,
      networkTxBytes: 3,
    });
  });

  it('starts a restarted container (counters back to zero) afresh, and keeps unknown network null', () => {
    const windows = new ContainerResourceWindows({ host: 'gpu1', windowMs: 60_000 });
    windows.add(at('12:00:00'), [counters({ cpuUsageNs: 90e9, networkRxBytes: null, networkTxBytes: null })]);
    windows.add(at('12:00:30'), [counters({ cpuUsageNs: 3e9, networkRxBytes: null, networkTxBytes: null })]);
    expect(windows.close()[0]).toMatchObject({ cpuSeconds: 3, networkRxBytes: null, networkTxBytes: null });
  });

  it('gives a container seen once a window with no usage yet, and forgets a stopped one', () => {
    const windows = new ContainerResourceWindows({ host: 'gpu1', windowMs: 60_000 });
    windows.add(at('12:00:00'), [counters({ cpuUsageNs: 5e9 })]);
    windows.add(at('12:00:30'), []);
    windows.add(at('12:00:45'), [counters({ cpuUsageNs: 1e9 })]);
    expect(windows.close()[0]).toMatchObject({ samples: 2, cpuSeconds: 0, cpuMeanCores: 0 });
  });
});
