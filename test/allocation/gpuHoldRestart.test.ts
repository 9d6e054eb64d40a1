import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventCatalog, gpuPoolStream } from '@ds01/domain';
import { type RecordedEvent, SqliteEventStore } from '@ds01/event-store';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanupTestRun, createTestContainer, describeWithDocker } from '../support/docker.ts';
import { type Ds01dProcess, labConfigDir, ready, runDs01, startDs01d } from '../support/ds01d.ts';

/** A hold this short (gpu_hold_after_stop_h) keeps the test to seconds and leaves room on a slow machine. */
const HOLD_HOURS = 0.005; // 18 s

/**
 * The restart case of issue 15: a container stopped (its GPU on hold), ds01d stopped, the container
 * started again within the hold, ds01d started after the hold's end. The catch-up must see the start
 * before any timer expires the hold: the running container keeps its GPU. Real ds01d processes, the
 * real CLI, the test dockerd.
 */
describeWithDocker('GPU hold across a ds01d restart', (td) => {
  let folder: string;
  let dataDir: string;
  let configDir: string;
  let daemon: Ds01dProcess | undefined;
  const dirs = () => ({ dataDir, configDir });

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'ds01-hold-restart-'));
    dataDir = join(folder, 'data');
    configDir = labConfigDir(join(folder, 'config'), {
      host: 'gpu01',
      editLimits: (yaml) =>
        yaml.replace('gpu_hold_after_stop_h: 0.25', `gpu_hold_after_stop_h: ${HOLD_HOURS}`),
    });
  });
  afterAll(async () => {
    await daemon?.stop();
    await cleanupTestRun(td);
    rmSync(folder, { recursive: true, force: true });
  });

  async function poolEvents(): Promise<RecordedEvent[]> {
    const store = new SqliteEventStore({ path: join(dataDir, 'events.db'), codec: eventCatalog });
    try {
      const events: RecordedEvent[] = [];
      for await (const e of store.readStream(gpuPoolStream('gpu01'))) events.push(e);
      return events;
    } finally {
      await store.close();
    }
  }

  async function poolEventAfter(
    position: number,
    types: readonly string[],
    what: string,
  ): Promise<RecordedEvent> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const found = (await poolEvents()).find((e) => e.position > position && types.includes(e.type));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} on the pool stream`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('a container started again within its hold while ds01d was down keeps its GPU', {
    timeout: 240_000,
  }, async () => {
    daemon = startDs01d({ dataDir, configDir, dockerHost: td.host, logLevel: 'info' });
    await daemon.waitFor(ready, 'ds01d ready');
    const container = await createTestContainer(td, { start: true });
    const granted = await runDs01(
      // The test container has no owner DS01 can name: root allocates for it anyway (--force, recorded).
      ['gpu', 'allocate', '--user', 'root', '--count', '1', '--container', container.id, '--force', '--json'],
      dirs(),
    );
    expect(granted.code, granted.stderr).toBe(0);
    const slot = (JSON.parse(granted.stdout) as { slots: { slot: string }[] }).slots[0]!.slot;

    await container.stop({ t: 1 });
    const hold = await poolEventAfter(0, ['GpuHoldStarted'], 'the hold of the stopped container');
    const expiresAt = Date.parse((hold.data as { expiresAt: string }).expiresAt);
    expect(await daemon.stop()).toBe(0);

    await container.start();
    const startedAt = Date.parse((await container.inspect()).State.StartedAt);
    expect(startedAt, 'the container must start again before its hold runs out').toBeLessThan(expiresAt);
    // ds01d comes back only after the hold's end: waiting for the clock is the scenario itself.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now() + 500)));

    daemon = startDs01d({ dataDir, configDir, dockerHost: td.host, logLevel: 'info' });
    await daemon.waitFor(ready, 'ds01d ready');
    const outcome = await poolEventAfter(
      hold.position,
      ['GpuHoldEnded', 'GpuHoldExpired', 'GpuReleased'],
      'the end or the expiry of the hold',
    );
    expect(outcome.type).toBe('GpuHoldEnded');
    const ended = outcome.data as { containerId: string; at: string };
    expect(ended.containerId).toBe(container.id);
    // Docker's start time, as the watcher recorded it (inspect and the event differ by milliseconds).
    expect(Math.abs(Date.parse(ended.at) - startedAt)).toBeLessThan(1000);
    // Once ended there is no hold left to expire: the container keeps its slot.
    const status = await runDs01(['gpu', 'status', '--json'], dirs());
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(container.id);
    expect(
      (await poolEvents()).filter((e) => e.type === 'GpuHoldExpired' || e.type === 'GpuReleased'),
    ).toEqual([]);
    expect(slot).toBeTruthy();
    expect(await daemon.stop()).toBe(0);
  });
});
