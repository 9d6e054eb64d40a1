import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storedInventory } from '@ds01/allocation';
import { eventCatalog, gpuInventoryStream } from '@ds01/domain';
import { type RecordedEvent, SqliteEventStore } from '@ds01/event-store';
import { nvidiaSmiSource, simulatedSource } from '@ds01/host';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FIXTURES } from '../../../packages/host/test/nvidia/captures.ts';
import { FakeNvidiaSmi } from '../../../packages/host/test/nvidia/fakeNvidiaSmi.ts';
import { GpuSampler, type SamplerLogger } from '../src/index.ts';

const HOST = 'gpu01';

/** Records log lines as "level: message" for assertions. */
class RecordingLogger implements SamplerLogger {
  readonly lines: { level: string; msg: string; fields: object }[] = [];
  debug = (fields: object, msg: string) => this.lines.push({ level: 'debug', msg, fields });
  info = (fields: object, msg: string) => this.lines.push({ level: 'info', msg, fields });
  warn = (fields: object, msg: string) => this.lines.push({ level: 'warn', msg, fields });
  error = (fields: object, msg: string) => this.lines.push({ level: 'error', msg, fields });
  at(level: string): string[] {
    return this.lines.filter((line) => line.level === level).map((line) => line.msg);
  }
}

/**
 * The fake nvidia-smi reads what to do from a file next to it on every run, so a test switches a
 * running sampler's GPUs between probes: serve the A100 capture, its MIG-off variant, hang, or print junk.
 */
function switchableNvidiaSmi(fake: FakeNvidiaSmi): (mode: 'mig' | 'mig-off' | 'hang' | 'junk') => void {
  const list = readFileSync(join(FIXTURES, 'text/a100-sxm4-80gb-mig-list-gpu0-1.txt'), 'utf8');
  const xml = readFileSync(join(FIXTURES, 'xml/a100-sxm4-80gb-mig-q-x-1.xml'), 'utf8');
  // GPU 0 with MIG switched off: no MIG lines in -L, "Disabled" and "None" in the XML.
  writeFileSync(join(fake.dir, 'list-mig-off'), list.replace(/\n\s+MIG.*/g, ''));
  writeFileSync(
    join(fake.dir, 'xml-mig-off'),
    xml
      .replace(/<current_mig>Enabled/, '<current_mig>Disabled')
      .replace(/<mig_devices>[\s\S]*<\/mig_devices>/, '<mig_devices>None</mig_devices>'),
  );
  fake.script(`dir=$(dirname "$0"); mode=$(cat "$dir/mode")
case "$mode:$*" in
  hang:*) exec sleep 30 ;;
  junk:*) printf 'garbage \\001\\002 <<<' ;;
  mig:-L) cat "$FIXTURES/text/a100-sxm4-80gb-mig-list-gpu0-1.txt" ;;
  "mig:-q -x") cat "$FIXTURES/xml/a100-sxm4-80gb-mig-q-x-1.xml" ;;
  mig-off:-L) cat "$dir/list-mig-off" ;;
  "mig-off:-q -x") cat "$dir/xml-mig-off" ;;
esac`);
  const set = (mode: string) => writeFileSync(join(fake.dir, 'mode'), mode);
  set('mig');
  return set;
}

describe('GpuSampler (real SQLite store, nvidia-smi as a real child process)', () => {
  let dir: string;
  let store: SqliteEventStore;
  let fake: FakeNvidiaSmi;
  let logger: RecordingLogger;
  let clock: Date;
  let setMode: ReturnType<typeof switchableNvidiaSmi>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ds01-gpu-sampler-'));
    store = new SqliteEventStore({ path: join(dir, 'events.db'), codec: eventCatalog });
    fake = new FakeNvidiaSmi();
    setMode = switchableNvidiaSmi(fake);
    logger = new RecordingLogger();
    clock = new Date('2026-03-02T10:00:00.000Z');
  });
  afterEach(async () => {
    await store.close();
    fake.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  function sampler(timeoutMs = 10_000, intervalMs = 60_000): GpuSampler {
    return new GpuSampler({
      store,
      source: nvidiaSmiSource(fake.binary, timeoutMs),
      host: HOST,
      intervalMs,
      logger,
      clock: () => clock,
    });
  }

  async function stream(): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for await (const event of store.readStream(gpuInventoryStream(HOST))) events.push(event);
    return events;
  }

  const tick = (minutes = 1) => {
    clock = new Date(clock.getTime() + minutes * 60_000);
  };

  it('records the first inventory, then nothing while the GPUs stay the same', async () => {
    const gpus = sampler();
    expect(gpus.latest()).toBeNull();
    await gpus.probeOnce();
    tick();
    await gpus.probeOnce();
    tick();
    await gpus.probeOnce();

    const events = await stream();
    expect(events.map((event) => event.type)).toEqual(['GpuInventoryObserved']);
    expect(events[0]!.metadata).toMatchObject({
      actor: { kind: 'service', name: 'gpu-sampler' },
      host: HOST,
      occurredAt: '2026-03-02T10:00:00.000Z',
    });
    expect(gpus.latest()?.inventory.gpus[0]?.migSlots.map((slot) => slot.slot)).toEqual([
      '0.0',
      '0.1',
      '0.2',
      '0.3',
    ]);
    expect(gpus.latest()?.probedAt.toISOString()).toBe('2026-03-02T10:02:00.000Z');
    expect(gpus.status()).toMatchObject({ probes: 3, consecutiveFailures: 0, eventsAppended: 1 });
    expect(logger.at('info')).toEqual([
      'GPU inventory recorded: 1 GPU (nvidia-smi), 1 with MIG, 4 MIG slots',
    ]);
    expect(await storedInventory(store, HOST)).toEqual({
      inventory: gpus.latest()!.inventory,
      at: '2026-03-02T10:00:00.000Z',
    });
  });

  it('records a MIG reconfiguration as what changed and the new inventory', async () => {
    const gpus = sampler();
    await gpus.probeOnce();
    setMode('mig-off');
    tick();
    await gpus.probeOnce();

    const events = await stream();
    expect(events.map((event) => event.type)).toEqual([
      'GpuInventoryObserved',
      'MigLayoutChanged',
      'GpuInventoryObserved',
    ]);
    expect(events[1]!.data).toMatchObject({
      gpuIndex: 0,
      removedSlots: ['0.0', '0.1', '0.2', '0.3'],
      addedSlots: ['0'],
    });
    expect(logger.at('info').at(-1)).toBe(
      'GPU inventory recorded: MIG layout of GPU 0 changed (removed: 0.0, 0.1, 0.2, 0.3; added: 0)',
    );
    expect((await storedInventory(store, HOST))?.inventory.gpus[0]?.migEnabled).toBe(false);
  });

  it('records a failing nvidia-smi once, keeps serving the last inventory, and records the recovery', async () => {
    const gpus = sampler(300);
    await gpus.probeOnce();
    const before = gpus.latest();
    setMode('hang');
    for (let i = 0; i < 3; i++) {
      tick();
      await gpus.probeOnce();
    }
    expect(gpus.latest()).toBe(before);
    expect(gpus.status()).toMatchObject({ consecutiveFailures: 3, failingSince: '2026-03-02T10:01:00.000Z' });
    setMode('mig');
    tick();
    await gpus.probeOnce();

    const events = await stream();
    expect(events.map((event) => event.type)).toEqual([
      'GpuInventoryObserved',
      'GpuProbeFailed',
      'GpuProbeRecovered',
    ]);
    expect(events[1]!.data).toEqual({
      command: 'nvidia-smi -L',
      reason: 'timeout',
      message: 'nvidia-smi -L: did not finish within 300 ms and was killed (a GPU that stopped responding?)',
      exitCode: null,
      at: '2026-03-02T10:01:00.000Z',
    });
    expect(events[2]!.data).toEqual({
      failedSince: '2026-03-02T10:01:00.000Z',
      at: '2026-03-02T10:04:00.000Z',
    });
    // One error line when failures begin, quieter lines after, one line when it works again.
    expect(logger.at('error')).toEqual([
      'GPU probe failed: nvidia-smi -L: did not finish within 300 ms and was killed (a GPU that stopped responding?); serving the last inventory until it works again',
    ]);
    expect(logger.at('debug')).toHaveLength(2);
    expect(logger.at('info').at(-1)).toBe(`GPU probe works again (nvidia-smi (${fake.binary}))`);
  });

  it('records garbled output as a GpuProbeFailed naming the command', async () => {
    setMode('junk');
    const gpus = sampler();
    await gpus.probeOnce();
    const [failed] = await stream();
    expect(failed).toMatchObject({
      type: 'GpuProbeFailed',
      data: { command: 'nvidia-smi -L', reason: 'garbled', exitCode: null },
    });
    expect((failed!.data as { message: string }).message).toMatch(
      /^nvidia-smi -L: line 1: expected "GPU <n>/,
    );
    expect(gpus.latest()).toBeNull();
  });

  it('keeps going when the store cannot record, and records on the next probe', async () => {
    const gpus = sampler();
    const readOnly = new SqliteEventStore({
      path: join(dir, 'events.db'),
      codec: eventCatalog,
      readOnly: true,
    });
    const failing = new GpuSampler({
      store: readOnly,
      source: nvidiaSmiSource(fake.binary, 10_000),
      host: HOST,
      intervalMs: 60_000,
      logger,
    });
    await failing.probeOnce();
    await readOnly.close();
    expect(failing.latest()?.inventory.gpus).toHaveLength(1);
    expect(logger.at('error')[0]).toMatch(/^could not record the GPU probe in the event store: /);
    expect(await stream()).toEqual([]);
    await gpus.probeOnce();
    expect((await stream()).map((event) => event.type)).toEqual(['GpuInventoryObserved']);
  });

  it('logs an error that is not about the GPUs as a bug, records nothing, and keeps going', async () => {
    const gpus = new GpuSampler({
      store,
      source: {
        kind: 'nvidia-smi',
        description: 'a source with a bug',
        probe: async () => {
          throw new TypeError("Cannot read properties of undefined (reading 'gpus')");
        },
      },
      host: HOST,
      intervalMs: 60_000,
      logger,
    });
    await gpus.probeOnce();
    expect(logger.at('error')).toEqual([
      "GPU probe failed on an unexpected error (a DS01 bug): Cannot read properties of undefined (reading 'gpus')",
    ]);
    expect(await stream()).toEqual([]);
  });

  it('loops: probes again after each interval, never two at once, and stops cleanly', async () => {
    const source = simulatedSource([{ name: 'NVIDIA A100-SXM4-80GB', memory_mib: 81920, mig: null }]);
    let running = 0;
    let mostAtOnce = 0;
    let calls = 0;
    const gpus = new GpuSampler({
      store,
      source: {
        ...source,
        probe: async (...args: Parameters<typeof source.probe>) => {
          calls += 1;
          running += 1;
          mostAtOnce = Math.max(mostAtOnce, running);
          try {
            return await source.probe(...args);
          } finally {
            running -= 1;
          }
        },
      },
      host: HOST,
      intervalMs: 5,
      logger,
    });
    gpus.start();
    await vi.waitFor(() => expect(gpus.status().probes).toBeGreaterThanOrEqual(3), { timeout: 5000 });
    await gpus.stop();
    const probes = gpus.status().probes;
    expect(calls).toBe(probes);
    expect(mostAtOnce).toBe(1);
    expect((await stream()).map((event) => event.type)).toEqual(['GpuInventoryObserved']);
    expect((await gpus.nextSample()).inventory.source).toBe('simulated');
  });

  it('serves the last sample as a GpuSource, without running nvidia-smi', async () => {
    setMode('hang');
    const gpus = sampler(300);
    const lastSample = gpus.lastSampleSource();
    expect(lastSample.description).toBe(`the gpu-sampler's last probe of nvidia-smi (${fake.binary})`);
    await gpus.probeOnce();
    await expect(lastSample.probe()).rejects.toThrow(
      /^no GPU probe has worked yet \(nvidia-smi \(.*\)\): nvidia-smi -L: did not finish within 300 ms/,
    );
    setMode('mig');
    await gpus.probeOnce();
    setMode('junk'); // a probe of nvidia-smi itself would fail now
    expect((await lastSample.probe()).inventory).toBe(gpus.latest()!.inventory);
  });

  it('nextSample waits for the first probe that works', async () => {
    const gpus = sampler();
    const first = gpus.nextSample();
    await gpus.probeOnce();
    expect((await first).inventory.gpus).toHaveLength(1);
  });
});
