import { describe, expect, it } from 'vitest';
import {
  ContainerResourceWindowRecorded,
  containerUsageStream,
  containerUsageWindowEventId,
  eventCatalog,
  GpuUsageWindowRecorded,
  gpuUsageStream,
  gpuUsageWindowEventId,
  usageWindowAt,
} from '../../src/index.ts';

const containerId = 'a'.repeat(64);

const gpuWindow = GpuUsageWindowRecorded({
  host: 'gpu1',
  windowStart: '2026-12-03T23:55:00.000Z',
  windowEnd: '2026-12-04T00:00:00.000Z',
  device: { gpuIndex: 1, slot: '1.2', uuid: 'MIG-1234', migProfile: '3g.40gb' },
  holder: { containerId, user: 'alice' },
  samples: 20,
  gpuUtilization: null,
  grEngineActive: { mean: 0.4, max: 0.9 },
  smActive: { mean: 0.3 },
  dramActive: null,
  memoryUsedMaxBytes: 1024,
  powerMeanWatts: null,
  energyJoules: 1200.5,
  processes: [{ pid: 42, containerId, user: 'alice', memoryMaxBytes: 1024 }],
});

describe('usage window events', () => {
  it('are in the catalog and pass their schemas', () => {
    expect(eventCatalog.encode(gpuWindow.type, gpuWindow.data).version).toBe(1);
    const container = ContainerResourceWindowRecorded({
      host: 'gpu1',
      windowStart: '2026-12-03T12:00:00.000Z',
      windowEnd: '2026-12-03T12:05:00.000Z',
      containerId,
      user: null,
      samples: 20,
      cpuSeconds: 30,
      cpuMeanCores: 0.1,
      cpuMaxCores: 0.5,
      memoryMaxBytes: 1 << 20,
      memoryLimitBytes: null,
      ioReadBytes: 0,
      ioWriteBytes: 10,
      pidsMax: 3,
      networkRxBytes: null,
      networkTxBytes: null,
    });
    expect(eventCatalog.encode(container.type, container.data).version).toBe(1);
  });

  it('refuse a GR engine activity outside 0-1 (it is a ratio, not a percent)', () => {
    expect(() =>
      eventCatalog.encode(gpuWindow.type, { ...gpuWindow.data, grEngineActive: { mean: 40, max: 90 } }),
    ).toThrow(/grEngineActive/);
  });

  it('are streamed per host and UTC day of the window start', () => {
    expect(gpuUsageStream('gpu1', '2026-12-03T23:55:00.000Z')).toBe('gpu-usage-gpu1-2026-12-03');
    expect(containerUsageStream('gpu1', new Date('2026-12-04T00:00:00Z'))).toBe(
      'container-usage-gpu1-2026-12-04',
    );
  });

  it('have one id per host, device and window, so a re-append is a no-op', () => {
    const start = '2026-12-03T12:00:00.000Z';
    expect(gpuUsageWindowEventId('gpu1', '1.2', start)).toBe(gpuUsageWindowEventId('gpu1', '1.2', start));
    expect(gpuUsageWindowEventId('gpu1', '1.2', start)).not.toBe(gpuUsageWindowEventId('gpu1', '1.3', start));
    expect(containerUsageWindowEventId('gpu1', containerId, start)).not.toBe(
      containerUsageWindowEventId('gpu2', containerId, start),
    );
  });

  it('are aligned to the clock', () => {
    expect(usageWindowAt(new Date('2026-12-03T12:03:10.500Z'))).toEqual({
      start: '2026-12-03T12:00:00.000Z',
      end: '2026-12-03T12:05:00.000Z',
    });
    expect(usageWindowAt(new Date('2026-12-03T12:05:00.000Z'), 60_000).start).toBe(
      '2026-12-03T12:05:00.000Z',
    );
    expect(() => usageWindowAt(new Date(), 0)).toThrow(/positive/);
  });
});
