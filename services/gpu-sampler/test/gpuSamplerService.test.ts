import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storedInventory } from '@ds01/allocation';
import { gpusConfigOf, loadDs01Config } from '@ds01/config';
import { eventCatalog } from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import type { ServiceContext } from '@ds01/service';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeNvidiaSmi } from '../../../packages/host/test/nvidia/fakeNvidiaSmi.ts';
import { waitUntil } from '../../../test/support/waitUntil.ts';
import { createGpuSamplerService } from '../src/index.ts';

/** What ds01d hands a service, on a real config dir and a real store (no daemon around it). */
function contextFor(dir: string, store: SqliteEventStore, yaml: object, lines: string[]): ServiceContext {
  const configDir = join(dir, 'config');
  mkdirSync(configDir, { recursive: true });
  const config = loadDs01Config({ configDir, dataDir: join(dir, 'data'), env: {} });
  const log = (level: string) => (_fields: object, msg: string) => lines.push(`${level}: ${msg}`);
  const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  return {
    store,
    logger: logger as unknown as ServiceContext['logger'],
    config: { ...config, host: 'gpu01', yaml: { ...config.yaml, ...yaml } },
    paths: config.paths,
    projections: undefined as unknown as ServiceContext['projections'],
  };
}

describe('the gpu-sampler service', () => {
  let dir: string;
  let store: SqliteEventStore;
  let fake: FakeNvidiaSmi;
  let lines: string[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ds01-gpu-sampler-service-'));
    store = new SqliteEventStore({ path: join(dir, 'events.db'), codec: eventCatalog });
    fake = new FakeNvidiaSmi().serves({
      list: 'text/a100-sxm4-80gb-mig-list-gpu0-1.txt',
      xml: 'xml/a100-sxm4-80gb-mig-q-x-1.xml',
    });
    lines = [];
  });
  afterEach(async () => {
    await store.close();
    fake.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records the inventory before start() resolves, serves it, and stops', async () => {
    const service = createGpuSamplerService();
    const yaml = { gpus: { mode: 'nvidia-smi', nvidia_smi: fake.binary, probe_interval_seconds: 3600 } };
    const running = await service.start(contextFor(dir, store, yaml, lines));
    expect(service.sampler()?.latest()?.inventory.gpus).toHaveLength(1);
    expect((await storedInventory(store, 'gpu01'))?.inventory.source).toBe('nvidia-smi');
    expect(lines).toContain('info: gpu-sampler started');
    await running.stop();
    expect(service.sampler()).toBeNull();
  });

  it('starts on the simulated GPUs when nvidia-smi is not there (mode auto), and says so', async () => {
    const service = createGpuSamplerService();
    const yaml = {
      gpus: {
        nvidia_smi: join(dir, 'no', 'nvidia-smi'),
        simulated: [{ name: 'NVIDIA A100-SXM4-80GB', memory_mib: 81920, mig: ['3g.40gb', '3g.40gb'] }],
      },
    };
    const running = await service.start(contextFor(dir, store, yaml, lines));
    expect(lines[0]).toMatch(
      /^warn: .*no\/nvidia-smi not found: using the simulated GPUs of ds01\.yaml \(1\)/,
    );
    const stored = await storedInventory(store, 'gpu01');
    expect(stored?.inventory.gpus[0]?.migSlots.map((slot) => [slot.slot, slot.profile])).toEqual([
      ['0.0', '3g.40gb'],
      ['0.1', '3g.40gb'],
    ]);
    await running.stop();
  });

  it('starts even when nvidia-smi fails, with the failure recorded', async () => {
    fake.script(
      'echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver."; exit 9',
    );
    const service = createGpuSamplerService();
    const running = await service.start(
      contextFor(dir, store, { gpus: { mode: 'nvidia-smi', nvidia_smi: fake.binary } }, lines),
    );
    expect(service.sampler()?.latest()).toBeNull();
    const events = [];
    for await (const event of store.readStream('gpu-inventory-gpu01')) events.push(event);
    expect(events.map((event) => [event.type, (event.data as { reason?: string }).reason])).toEqual([
      ['GpuProbeFailed', 'exit-code'],
    ]);
    await running.stop();
  });

  it('does not hold start-up for a hung nvidia-smi: starts, then records the probe timeout', async () => {
    fake.script('exec sleep 30');
    const service = createGpuSamplerService({ firstProbeWaitMs: 200 });
    const yaml = { gpus: { mode: 'nvidia-smi', nvidia_smi: fake.binary, probe_timeout_seconds: 2 } };
    const running = await service.start(contextFor(dir, store, yaml, lines));
    // Started before the probe's deadline: its failure is not logged yet.
    expect(lines.some((line) => line.startsWith('error: GPU probe failed'))).toBe(false);
    expect(lines).toContain('info: gpu-sampler started');
    expect(lines.some((line) => /^warn: the first GPU probe takes longer than 200 ms/.test(line))).toBe(true);
    await waitUntil(
      () =>
        lines.some((line) =>
          /^error: GPU probe failed: nvidia-smi -L: did not finish within 2000 ms/.test(line),
        ),
      'the probe timeout to be logged',
    );
    await running.stop();
  });

  it('reads an absent gpus: section as the defaults and names a wrong one', () => {
    expect(gpusConfigOf({})).toMatchObject({ mode: 'auto', probe_interval_seconds: 15 });
    expect(() => gpusConfigOf({ gpus: { mode: 'gpu' } })).toThrow(/^ds01\.yaml gpus\.mode: /);
  });
});
