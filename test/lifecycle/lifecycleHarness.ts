import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { DEFAULT_LIFECYCLE_CONFIG, type LifecycleConfig } from '@ds01/config';
import { DockerWatcher } from '@ds01/docker-watcher';
import {
  ContainerCreateAuthorized,
  ContainerResourceWindowRecorded,
  containerStream,
  containerUsageStream,
  eventCatalog,
  lifecycleStream,
} from '@ds01/domain';
import { Enforcer } from '@ds01/enforcer';
import { type NewEvent, newEventId, type RecordedEvent, SqliteEventStore } from '@ds01/event-store';
import { connectDocker } from '@ds01/host';
import { dbRows, LifecycleReadModel, policyFromConfigDir } from '@ds01/lifecycle';
import { LifecycleTicker } from '@ds01/lifecycle-service';
import { allProjections, openProjectionsDb, ProjectionRunner } from '@ds01/projections';
import { labConfigDir } from '../support/ds01d.ts';
import { waitUntil } from '../support/waitUntil.ts';

export const HOST = 'lifecycle-test';
const MINUTE = 60_000;

/**
 * A real log, read models and docker watcher on the test dockerd, with the lifecycle's ticker and
 * enforcer driven by a clock the test moves: usage windows are appended as the samplers would, so
 * an hour of a container's life passes in a second.
 */
export class LifecycleHarness {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'ds01-lifecycle-'));
  readonly configDir: string;
  readonly store = new SqliteEventStore({
    path: join(this.dataDir, 'events.db'),
    codec: eventCatalog,
    pollIntervalMs: 20,
  });
  readonly db: DatabaseSync = openProjectionsDb(join(this.dataDir, 'projections.db'));
  readonly runner = new ProjectionRunner({ store: this.store, db: this.db, projections: allProjections });
  readonly lifecycle = new LifecycleReadModel(dbRows(this.db));
  readonly logs: { level: string; msg: string }[] = [];
  clock = new Date();
  readonly watcher: DockerWatcher;
  readonly ticker: LifecycleTicker;
  readonly enforcer: Enforcer;

  constructor(
    dockerHost: string,
    config: Partial<LifecycleConfig> = {},
    editLimits?: (yaml: string) => string,
  ) {
    this.configDir = labConfigDir(mkdtempSync(join(tmpdir(), 'ds01-lifecycle-config-')), {
      host: HOST,
      ...(editLimits ? { editLimits } : {}),
    });
    const lifecycleConfig = { ...DEFAULT_LIFECYCLE_CONFIG, warnings_m: [15, 5], ...config };
    const connection = connectDocker(dockerHost);
    const logger = {
      debug: () => {},
      info: (_o: object, msg: string) => this.logs.push({ level: 'info', msg }),
      warn: (_o: object, msg: string) => this.logs.push({ level: 'warn', msg }),
      error: (_o: object, msg: string) => this.logs.push({ level: 'error', msg }),
    };
    this.watcher = new DockerWatcher({
      store: this.store,
      connection,
      checkpointPath: join(this.dataDir, 'docker-watcher.checkpoint'),
      logger,
      host: HOST,
      backoff: { initialMs: 100, maxMs: 1000 },
    });
    const now = () => this.clock;
    this.ticker = new LifecycleTicker({
      store: this.store,
      lifecycle: this.lifecycle,
      projections: dbRows(this.db),
      policy: policyFromConfigDir(this.configDir, lifecycleConfig),
      connection,
      host: HOST,
      config: lifecycleConfig,
      now,
      logger,
    });
    this.enforcer = new Enforcer({
      store: this.store,
      lifecycle: this.lifecycle,
      connection,
      host: HOST,
      config: lifecycleConfig,
      now,
      logger,
    });
  }

  async start(): Promise<void> {
    this.runner.prepare();
    await this.watcher.start();
  }

  async stop(): Promise<void> {
    await this.watcher.stop();
    this.db.close();
    this.store.close();
  }

  /** The read models caught up with everything on the log. */
  async catchUp(): Promise<void> {
    await this.runner.catchUp();
  }

  /** Moves the clock to `minutes` after `from`, catches up, ticks, and lets the enforcer act. */
  async at(from: Date, minutes: number): Promise<void> {
    this.clock = new Date(from.getTime() + minutes * MINUTE);
    await this.catchUp();
    await this.ticker.runOnce();
    await this.catchUp();
    await this.enforcer.runOnce();
    await this.catchUp();
  }

  /** 5-minute windows of a container over [fromMinute, toMinute) after `start`, at `cpuPercent` of a core. */
  async windows(containerId: string, start: Date, fromMinute: number, toMinute: number, cpuPercent: number) {
    const events: NewEvent[] = [];
    for (let m = fromMinute; m < toMinute; m += 5) {
      const windowStart = new Date(start.getTime() + m * MINUTE);
      const windowEnd = new Date(windowStart.getTime() + 5 * MINUTE);
      const event = ContainerResourceWindowRecorded({
        host: HOST,
        windowStart: windowStart.toISOString(),
        windowEnd: windowEnd.toISOString(),
        containerId,
        user: null,
        samples: 20,
        cpuSeconds: (cpuPercent / 100) * 300,
        cpuMeanCores: cpuPercent / 100,
        cpuMaxCores: cpuPercent / 100,
        memoryMaxBytes: 1e6,
        memoryLimitBytes: null,
        ioReadBytes: 0,
        ioWriteBytes: 0,
        pidsMax: 2,
        networkRxBytes: 0,
        networkTxBytes: 0,
      });
      events.push({
        ...event,
        metadata: {
          eventId: newEventId(windowEnd.getTime()),
          occurredAt: windowEnd.toISOString(),
          actor: { kind: 'service', name: 'cgroup-sampler' },
          host: HOST,
          correlationId: newEventId(),
          causationId: null,
        },
      });
    }
    for (const event of events) {
      const { windowStart } = event.data as { windowStart: string };
      await this.store.append(containerUsageStream(HOST, windowStart), [event]);
    }
  }

  /**
   * Records what the gateway records when `user` creates the container through their socket (the
   * verified owner), on the container's stream after the watcher's events: the order of a gateway
   * that lost the race with Docker's create event.
   */
  async authorize(containerId: string, user: string): Promise<void> {
    await this.store.append(containerStream(containerId), [
      {
        ...ContainerCreateAuthorized({
          containerId,
          user,
          socket: { kind: 'user', user, path: `/run/ds01/users/${user}/docker.sock` },
          interface: 'docker',
          name: null,
          rewritten: [],
          devices: [],
        }),
        metadata: {
          eventId: newEventId(),
          occurredAt: new Date().toISOString(),
          actor: { kind: 'user', name: user },
          host: HOST,
          correlationId: newEventId(),
          causationId: null,
        },
      },
    ]);
    await this.catchUp();
  }

  async stream(id: string): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for await (const e of this.store.readStream(id)) events.push(e);
    return events;
  }

  async lifecycleTypes(containerId: string): Promise<string[]> {
    return (await this.stream(lifecycleStream(containerId))).map((e) => e.type);
  }

  /** Waits until the watcher recorded the container started and described; returns when it started. */
  async started(containerId: string): Promise<Date> {
    let startedAt: string | undefined;
    await waitUntil(
      async () => {
        const events = await this.stream(containerStream(containerId));
        startedAt = (events.find((e) => e.type === 'ContainerStarted')?.data as { startedAt?: string })
          ?.startedAt;
        return startedAt !== undefined && events.some((e) => e.type === 'ContainerDescribed');
      },
      `the watcher to record ${containerId.slice(0, 12)} started and described`,
    );
    await this.catchUp();
    return new Date(startedAt!);
  }
}
