import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ContainerResourceWindowRecorded,
  containerStream,
  containerUsageStream,
  eventCatalog,
  lifecycleStream,
} from '@ds01/domain';
import { newEventId, type RecordedEvent, SqliteEventStore } from '@ds01/event-store';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanupTestRun, createTestContainer, describeWithDocker } from '../support/docker.ts';
import { type Ds01dProcess, labConfigDir, ready, startDs01d } from '../support/ds01d.ts';
import { waitUntil } from '../support/waitUntil.ts';

const HOST = 'lifecycle-e2e';

/**
 * The lifecycle as ds01d runs it (lifecycle service, enforcer, notifier registered in services.ts),
 * on the real clock with short rules: no start grace, an idle timeout of 3.6 s, one warning 1.2 s
 * before, a tick every 300 ms. Only the usage windows come from the test (the samplers' events).
 * Rules that would touch other suites' containers on the shared test dockerd are off here.
 */
describeWithDocker('ds01d retires an idle container', (td) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ds01-lifecycle-e2e-'));
  let daemon: Ds01dProcess;
  let store: SqliteEventStore;

  beforeAll(async () => {
    const configDir = labConfigDir(mkdtempSync(join(tmpdir(), 'ds01-lifecycle-e2e-config-')), {
      host: HOST,
      editLimits: (yaml) =>
        yaml
          .replace(/grace_period_m: 30/, 'grace_period_m: 0')
          .replace(/created_container_timeout_m: 30/, 'created_container_timeout_m: null')
          .replace(/container_hold_after_stop_h: 0\.5/, 'container_hold_after_stop_h: null')
          .replace(/docker: \{ idle_timeout_h: 0\.5,/, 'docker: { idle_timeout_h: 0.001,'),
    });
    appendFileSync(
      join(configDir, 'ds01.yaml'),
      '\nlifecycle: { warnings_m: [0.02], tick_s: 0.3 }\nnotifications: { channels: [] }\n',
    );
    daemon = startDs01d({ dataDir, configDir, dockerHost: td.host });
    await daemon.waitFor(ready, 'ds01d ready');
    store = new SqliteEventStore({
      path: join(dataDir, 'events.db'),
      codec: eventCatalog,
      pollIntervalMs: 20,
    });
  });
  afterAll(async () => {
    await daemon?.stop();
    await store?.close();
    await cleanupTestRun(td);
  });

  const stream = async (id: string) => {
    const events: RecordedEvent[] = [];
    for await (const e of store.readStream(id)) events.push(e);
    return events;
  };

  it('warned, then stopped; the retirement and its outcome on the log', async () => {
    const container = await createTestContainer(td, { start: true });
    let startedAt = '';
    await waitUntil(
      async () => {
        const started = (await stream(containerStream(container.id))).find(
          (e) => e.type === 'ContainerStarted',
        );
        startedAt = (started?.data as { startedAt?: string } | undefined)?.startedAt ?? '';
        return startedAt !== '';
      },
      'ds01d to record the container started',
      20_000,
    );
    const start = Date.parse(startedAt);
    for (const minute of [0, 5]) {
      const windowStart = new Date(start + minute * 60_000).toISOString();
      const windowEnd = new Date(start + (minute + 5) * 60_000).toISOString();
      await store.append(containerUsageStream(HOST, windowStart), [
        {
          ...ContainerResourceWindowRecorded({
            host: HOST,
            windowStart,
            windowEnd,
            containerId: container.id,
            user: null,
            samples: 20,
            cpuSeconds: 0.1,
            cpuMeanCores: 0.001,
            cpuMaxCores: 0.01,
            memoryMaxBytes: 1e6,
            memoryLimitBytes: null,
            ioReadBytes: 0,
            ioWriteBytes: 0,
            pidsMax: 2,
            networkRxBytes: 0,
            networkTxBytes: 0,
          }),
          metadata: {
            eventId: newEventId(),
            occurredAt: new Date().toISOString(),
            actor: { kind: 'service', name: 'test-sampler' },
            host: HOST,
            correlationId: newEventId(),
            causationId: null,
          },
        },
      ]);
    }
    await waitUntil(
      async () => (await stream(lifecycleStream(container.id))).some((e) => e.type === 'ContainerRetired'),
      'ds01d to retire the idle container',
      30_000,
    );
    // Its max runtime was decided first (48 h); idleness, once the windows came, superseded it.
    const events = await stream(lifecycleStream(container.id));
    const retired = events.at(-1)!;
    expect(retired).toMatchObject({ type: 'ContainerRetired', data: { reason: 'idle', outcome: 'stopped' } });
    const id = (retired.data as { retirementId: string }).retirementId;
    const of = events
      .filter((e) => (e.data as { retirementId?: string }).retirementId === id)
      .map((e) => e.type);
    expect(of.filter((t) => t !== 'RetirementPostponed')).toEqual([
      'RetirementScheduled',
      'RetirementWarned',
      'RetirementStarted',
      'ContainerRetired',
    ]);
    expect(events.map((e) => e.type)).toContain('ContainerIdle');
    expect((await container.inspect()).State.Running).toBe(false);
    // The stop reaches the container's own stream through the docker watcher, as any stop does.
    await waitUntil(
      async () => (await stream(containerStream(container.id))).some((e) => e.type === 'ContainerStopped'),
      'the watcher to record the stop',
    );
  }, 90_000);
});
