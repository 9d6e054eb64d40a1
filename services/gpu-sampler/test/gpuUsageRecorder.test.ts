import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_GPU_HEALTH_THRESHOLDS,
  eventCatalog,
  type GpuInventory,
  gpuHealthStream,
  gpuUsageStream,
  type UsageHolder,
} from '@ds01/domain';
import { type RecordedEvent, SqliteEventStore } from '@ds01/event-store';
import { nvidiaSmiSource, parseSmiXml } from '@ds01/host';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FIXTURES } from '../../../packages/host/test/nvidia/captures.ts';
import { FakeNvidiaSmi } from '../../../packages/host/test/nvidia/fakeNvidiaSmi.ts';
import {
  GpuSampler,
  GpuUsageRecorder,
  gpuHealthReadingsOf,
  gpuSampleOf,
  type SamplerLogger,
} from '../src/index.ts';

const HOST = 'gpu01';
const MIB = 1024 * 1024;
const quiet: SamplerLogger = { debug() {}, info() {}, warn() {}, error() {} };
const alice: UsageHolder = { containerId: 'a'.repeat(64), user: 'alice' };

async function events(store: SqliteEventStore, stream: string): Promise<RecordedEvent[]> {
  const found: RecordedEvent[] = [];
  for await (const event of store.readStream(stream)) found.push(event);
  return found;
}

describe('GPU usage windows from the sampler (real SQLite store, nvidia-smi and dcgm-exporter stand-ins)', () => {
  let dir: string;
  let store: SqliteEventStore;
  let fake: FakeNvidiaSmi;
  let dcgm: Server;
  let dcgmUrl: string;
  let clock: Date;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ds01-gpu-usage-'));
    store = new SqliteEventStore({ path: join(dir, 'events.db'), codec: eventCatalog });
    fake = new FakeNvidiaSmi().serves({
      list: 'text/a100-sxm4-80gb-mig-list-gpu0-1.txt',
      xml: 'xml/a100-sxm4-80gb-mig-q-x-1.xml',
    });
    // The real dcgm-exporter capture of another machine: it has no series of this host's MIG slices.
    const capture = readFileSync(join(FIXTURES, 'dcgm/a30-rtx2000ada-mixed-mig-dcgm-metrics-1.txt'), 'utf8');
    dcgm = createServer((_request, response) => response.end(capture));
    await new Promise<void>((resolve) => dcgm.listen(0, '127.0.0.1', resolve));
    dcgmUrl = `http://127.0.0.1:${(dcgm.address() as AddressInfo).port}/metrics`;
    clock = new Date('2026-12-03T12:00:10.000Z');
  });
  afterEach(async () => {
    await store.close();
    fake.remove();
    dcgm.closeAllConnections();
    await new Promise((resolve) => dcgm.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  function sampler(): GpuSampler {
    const usage = new GpuUsageRecorder({
      store,
      host: HOST,
      logger: quiet,
      windowMs: 5 * 60_000,
      dcgm: { url: dcgmUrl, timeoutMs: 5000 },
      holders: () => new Map([['0.1', alice]]),
    });
    return new GpuSampler({
      store,
      source: nvidiaSmiSource(fake.binary, 10_000),
      host: HOST,
      intervalMs: 15_000,
      logger: quiet,
      clock: () => clock,
      usage,
    });
  }

  it('appends one window per MIG slot when the clock passes the window, with unknown activity', async () => {
    const gpus = sampler();
    await gpus.probeOnce();
    clock = new Date('2026-12-03T12:04:50.000Z');
    await gpus.probeOnce();
    const stream = gpuUsageStream(HOST, clock);
    expect(await events(store, stream)).toEqual([]);
    clock = new Date('2026-12-03T12:05:05.000Z');
    await gpus.probeOnce();

    const windows = await events(store, stream);
    expect(windows.map((event) => event.data)).toMatchObject(
      ['0.0', '0.1', '0.2', '0.3'].map((slot) => ({
        host: HOST,
        windowStart: '2026-12-03T12:00:00.000Z',
        windowEnd: '2026-12-03T12:05:00.000Z',
        device: { gpuIndex: 0, slot, migProfile: '1g.20gb' },
        holder: slot === '0.1' ? alice : { containerId: null, user: null },
        samples: 2,
        // No utilisation on MIG from nvidia-smi, and no series for these slices from DCGM: unknown.
        gpuUtilization: null,
        grEngineActive: null,
        memoryUsedMaxBytes: 12 * MIB,
        energyJoules: null,
        processes: [],
      })),
    );
    expect(windows[0]!.data).toMatchObject({ device: { uuid: 'MIG-ce861fb0-a248-58ce-a9a8-f9adbc22a66a' } });
    expect(windows[0]!.metadata.occurredAt).toBe('2026-12-03T12:05:00.000Z');

    // Stopping appends the partial window; a new run in the same window keeps that one, once.
    await gpus.stop();
    expect(await events(store, stream)).toHaveLength(8);
    const again = sampler();
    clock = new Date('2026-12-03T12:06:00.000Z');
    await again.probeOnce();
    await again.stop();
    expect(await events(store, stream)).toHaveLength(8);
  });

  it('records the health of each GPU on change only', async () => {
    const usage = new GpuUsageRecorder({
      store,
      host: HOST,
      logger: quiet,
      windowMs: 60_000,
      dcgm: null,
      // The A100 capture is at 27 °C: a threshold of 25 makes it "hot".
      healthThresholds: { ...DEFAULT_GPU_HEALTH_THRESHOLDS, temperatureC: 25 },
      holders: () => new Map(),
    });
    const gpus = new GpuSampler({
      store,
      source: nvidiaSmiSource(fake.binary, 10_000),
      host: HOST,
      intervalMs: 15_000,
      logger: quiet,
      clock: () => clock,
      usage,
    });
    await gpus.probeOnce();
    await gpus.probeOnce();
    expect((await events(store, gpuHealthStream(HOST))).map((event) => event.data)).toEqual([
      {
        gpuIndex: 0,
        uuid: 'GPU-513536b6-7d19-9063-b049-1e69664bb298',
        problems: [{ check: 'temperature', value: 27, threshold: 25 }],
        at: clock.toISOString(),
      },
    ]);
  });
});

describe('gpuSampleOf and gpuHealthReadingsOf (real captures)', () => {
  const xml = parseSmiXml(readFileSync(join(FIXTURES, 'xml/tesla-k80-x4-q-x-processes-1.xml'), 'utf8'));
  // DS01's inventory of these GPUs (what -L and the XML give; the capture has no -L of its own).
  const inventory: GpuInventory = {
    source: 'nvidia-smi',
    gpus: xml.gpus.map((gpu) => ({
      index: gpu.position,
      uuid: gpu.uuid,
      name: gpu.name,
      memoryMiB: gpu.memoryTotalMiB,
      migEnabled: false,
      migSlots: [],
    })),
  };
  const processes = xml.gpus.flatMap((gpu) =>
    gpu.processes.map((process) => ({
      pid: process.pid,
      gpuIndex: gpu.position,
      gpuUuid: gpu.uuid,
      slot: String(gpu.position),
      migUuid: null,
      type: process.type,
      name: process.name,
      usedMemoryMiB: process.usedMemoryMiB,
    })),
  );
  const readings = {
    inventory,
    xml,
    dcgm: null,
    processes,
    owners: new Map([[processes[0]!.pid, { containerId: null, user: 'bob' }]]),
    at: new Date('2026-12-03T12:00:00Z'),
  };

  it('takes utilisation, memory, power and processes of whole GPUs from nvidia-smi', () => {
    const sample = gpuSampleOf(readings);
    expect(sample.devices).toHaveLength(4);
    const withProcess = sample.devices.find((device) => device.processes.length > 0)!;
    const described = xml.gpus[withProcess.device.gpuIndex]!;
    expect(withProcess).toMatchObject({
      gpuEquivalents: 1,
      gpuUtilization: described.utilizationPercent,
      memoryUsedBytes: described.memoryUsedMiB! * MIB,
      grEngineActive: null,
    });
    expect(withProcess.processes[0]).toEqual({
      pid: processes[0]!.pid,
      containerId: null,
      user: 'bob',
      memoryBytes: processes[0]!.usedMemoryMiB! * MIB,
    });
    expect([...sample.energyMillijoulesByGpu.values()]).toEqual([null, null, null, null]);
  });

  it("reads each GPU's ECC, retired pages and throttling for the health checks", () => {
    expect(gpuHealthReadingsOf(readings)[0]).toMatchObject({
      gpuIndex: 0,
      eccVolatileUncorrectable: 0,
      eccAggregateUncorrectable: 7,
      retiredPages: 2,
      retiredPagesPending: null,
      lastXid: null,
      throttleReasons: ['applications_clocks_setting'],
    });
  });
});

describe('gpuSampleOf on MIG (A100 capture, dcgm-exporter entities)', () => {
  const xml = parseSmiXml(readFileSync(join(FIXTURES, 'xml/a100-sxm4-80gb-mig-q-x-1.xml'), 'utf8'));
  const migDevices = xml.gpus[0]!.migDevices!;
  // DS01's inventory of the capture's GPU (as -L and the XML give it).
  const inventory: GpuInventory = {
    source: 'nvidia-smi',
    gpus: [
      {
        index: 0,
        uuid: xml.gpus[0]!.uuid,
        name: xml.gpus[0]!.name,
        memoryMiB: 81920,
        migEnabled: true,
        migSlots: migDevices.map((device) => ({
          slot: `0.${device.index}`,
          gpuIndex: 0,
          migDevice: device.index,
          profile: '1g.20gb',
          uuid: null,
          gpuInstanceId: device.gpuInstanceId,
          computeInstanceId: device.computeInstanceId,
          memoryMiB: device.memoryTotalMiB,
        })),
      },
    ],
  };

  it("takes a slice's activity from the DCGM entity of its GPU instance, and the GPU's energy counter", () => {
    const [first, second] = migDevices;
    const sample = gpuSampleOf({
      inventory,
      xml,
      dcgm: [
        {
          gpuIndex: 0,
          uuid: xml.gpus[0]!.uuid,
          gpuInstanceId: first!.gpuInstanceId,
          profile: '1g.20gb',
          values: { grEngineActive: 0.75, energyMillijoules: 5_000 },
        },
        {
          gpuIndex: 0,
          uuid: xml.gpus[0]!.uuid,
          gpuInstanceId: second!.gpuInstanceId,
          profile: '1g.20gb',
          values: { smActive: 0.1 },
        },
      ],
      processes: [],
      owners: new Map(),
      at: new Date('2026-12-03T12:00:00Z'),
    });
    expect(
      sample.devices.map((device) => [device.device.slot, device.grEngineActive, device.smActive]),
    ).toEqual([
      ['0.0', 0.75, null],
      ['0.1', null, 0.1],
      ['0.2', null, null],
      ['0.3', null, null],
    ]);
    expect(sample.devices[0]).toMatchObject({
      gpuUtilization: null,
      gpuEquivalents: 1 / 7,
      memoryUsedBytes: 12 * MIB,
    });
    expect(sample.energyMillijoulesByGpu.get(0)).toBe(5_000);
  });
});
