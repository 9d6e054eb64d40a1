import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createAllocatorService } from '@ds01/allocator';
import { loadDs01Config } from '@ds01/config';
import {
  ContainerStopped,
  containerStream,
  eventCatalog,
  GpuInventoryObserved,
  gpuInventoryStream,
  gpuPoolStream,
} from '@ds01/domain';
import { runDaemon } from '@ds01/ds01d';
import { SqliteEventStore } from '@ds01/event-store';
import { connectDocker } from '@ds01/host';
import pino from 'pino';
import { afterAll, expect, it } from 'vitest';
import { recordEvent } from '../../packages/allocation/test/support.ts';
import { mixedInventory } from '../../packages/domain/test/allocation/pools.ts';
import { cleanupTestRun, createTestContainer, describeWithDocker } from '../support/docker.ts';

const LAB = join(
  import.meta.dirname,
  '..',
  '..',
  'packages',
  'config',
  'test',
  'fixtures',
  'ds01-infra',
  'lab',
);

/** A fresh data dir and config dir (the lab's limits, host `svc`) with the host's GPU inventory recorded. */
async function setUp(folder: string) {
  const dataDir = join(folder, 'data');
  const configDir = join(folder, 'config');
  mkdirSync(dataDir, { recursive: true });
  cpSync(LAB, configDir, { recursive: true });
  writeFileSync(join(configDir, 'ds01.yaml'), 'host: svc\n');
  const config = loadDs01Config({ dataDir, configDir, env: {} });
  const store = new SqliteEventStore({ path: config.eventStore.path, codec: eventCatalog });
  await recordEvent(
    store,
    gpuInventoryStream('svc'),
    GpuInventoryObserved({ inventory: mixedInventory, at: new Date().toISOString() }),
  );
  const lines: Array<{ msg: string }> = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  );
  return { config, store, logger, lines };
}

/** Polls the pool stream until an event satisfies `found` (ds01d works in the background). */
async function poolEvent(store: SqliteEventStore, found: (e: { type: string; data: unknown }) => boolean) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    for await (const e of store.readStream(gpuPoolStream('svc'))) if (found(e)) return e;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('the pool stream never got the expected event');
}

/** The allocator as ds01d runs it: switch-over at start, then holds driven by container events. */
describeWithDocker('allocator service in ds01d', (td) => {
  const folder = mkdtempSync(join(tmpdir(), 'ds01-allocator-service-'));
  afterAll(async () => {
    await cleanupTestRun(td);
    rmSync(folder, { recursive: true, force: true });
  });

  it('takes over ds01-infra containers on start, then holds a stopped container’s GPU', {
    timeout: 90_000,
  }, async () => {
    const { config, store, logger } = await setUp(join(folder, 'a'));
    const legacy = await createTestContainer(td, {
      labels: { 'ds01.user': 'ana', 'ds01.managed': 'true', 'ds01.gpu.allocated': '2' },
    });
    const stop = new AbortController();
    const service = createAllocatorService({
      docker: () => connectDocker(td.host),
      expiryIntervalMs: 60_000,
    });
    const daemon = runDaemon({ config, logger, services: [service], signal: stop.signal });
    try {
      const taken = await poolEvent(
        store,
        (e) => e.type === 'GpuAllocated' && (e.data as { containerId: string }).containerId === legacy.id,
      );
      expect(taken.data).toMatchObject({ slot: '2', user: 'ana', observation: 'reconciled' });
      await poolEvent(store, (e) => e.type === 'GpuPoolReconciled');
      const finishedAt = new Date().toISOString();
      await recordEvent(
        store,
        containerStream(legacy.id),
        ContainerStopped({
          containerId: legacy.id,
          name: 'legacy',
          observation: 'observed',
          dockerEvent: null,
          exitCode: 0,
          oomKilled: false,
          finishedAt,
        }),
      );
      const hold = await poolEvent(store, (e) => e.type === 'GpuHoldStarted');
      // ana is a student: gpu_hold_after_stop_h 0.25 in the lab's resource-limits.yaml.
      expect(hold.data).toMatchObject({
        containerId: legacy.id,
        stoppedAt: finishedAt,
        expiresAt: new Date(Date.parse(finishedAt) + 15 * 60_000).toISOString(),
      });
    } finally {
      stop.abort();
      await daemon;
      await store.close();
    }
  });

  it('starts without Docker, says so, and tries the switch-over again', { timeout: 90_000 }, async () => {
    const { config, store, logger, lines } = await setUp(join(folder, 'b'));
    const stop = new AbortController();
    const service = createAllocatorService({
      docker: () => connectDocker(`unix://${join(folder, 'no-such-docker.sock')}`),
      switchOverRetryMs: 100,
    });
    const daemon = runDaemon({ config, logger, services: [service], signal: stop.signal });
    try {
      const deadline = Date.now() + 30_000;
      const failures = () =>
        lines.filter((l) => l.msg.startsWith('switch-over from ds01-infra failed')).length;
      while (failures() < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(failures()).toBeGreaterThanOrEqual(2);
      expect(lines.some((l) => l.msg === 'allocator started')).toBe(true);
    } finally {
      stop.abort();
      await daemon;
      await store.close();
    }
  });
});
