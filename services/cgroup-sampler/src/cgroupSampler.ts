import {
  type ContainerCounters,
  type ContainerResourceWindowData,
  ContainerResourceWindowRecorded,
  ContainerResourceWindows,
  containerUsageStream,
  containerUsageWindowEventId,
  UserSliceResourceWindowRecorded,
  userSliceUsageStream,
  userSliceUsageWindowEventId,
} from '@ds01/domain';
import { EventIdConflictError, type EventStore, type NewEvent, RepeatedFailureLog } from '@ds01/event-store';
import { type CgroupFs, readNetDev } from '@ds01/host';
import { PeriodicTask } from '@ds01/service';

/** The subset of a pino logger the sampler uses. */
export interface CgroupSamplerLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface CgroupSamplerOptions {
  store: EventStore;
  cgroups: CgroupFs;
  host: string;
  logger: CgroupSamplerLogger;
  /** Pause between the end of one cycle and the start of the next. */
  intervalMs: number;
  windowMs: number;
  /** The owner of a container (the containers projection); null: unknown. */
  ownerOf: (containerId: string) => string | null;
  clock?: () => Date;
  /** /proc of this host, for network bytes (tests may point elsewhere). */
  procRoot?: string;
}

const ACTOR = { kind: 'service', name: 'cgroup-sampler' } as const;

/**
 * Every interval: finds every container's cgroup in the hierarchy (so a container is sampled however
 * it was started), reads its counters and its network namespace's bytes, aggregates them into
 * clock-aligned windows in memory, and appends ContainerResourceWindowRecorded per container when a
 * window closes (one id per host, container and window: appended once, also across a restart). The
 * ds01 user slices that hold containers are sampled and windowed the same way
 * (UserSliceResourceWindowRecorded: what a user's containers used together).
 */
export class CgroupSampler {
  readonly #options: CgroupSamplerOptions;
  readonly #clock: () => Date;
  readonly #windows: ContainerResourceWindows;
  /** The slices' windows, keyed by slice path (the aggregation is the containers' one). */
  readonly #sliceWindows: ContainerResourceWindows;
  readonly #slicePaths = new Map<string, string>();
  readonly #storeFailures: RepeatedFailureLog;
  #pending: { stream: string; event: NewEvent }[] = [];
  readonly #loop: PeriodicTask;
  cycles = 0;
  windowsAppended = 0;

  constructor(options: CgroupSamplerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? (() => new Date());
    this.#loop = new PeriodicTask(() => this.#cycle(), options.intervalMs);
    this.#windows = new ContainerResourceWindows({ host: options.host, windowMs: options.windowMs });
    this.#sliceWindows = new ContainerResourceWindows({ host: options.host, windowMs: options.windowMs });
    this.#storeFailures = new RepeatedFailureLog({
      logger: options.logger,
      what: 'could not record container usage in the event store',
      retryEveryMs: options.windowMs,
    });
  }

  /** Samples now (waiting for a cycle in flight instead of starting a second). Never throws. */
  sampleOnce(): Promise<void> {
    return this.#loop.runOnce();
  }

  start(firstInMs = 0): void {
    this.#loop.start(firstInMs);
  }

  /** Stops, waits for a cycle in flight, and appends the window being filled (partial). */
  async stop(): Promise<void> {
    await this.#loop.stop();
    this.#queue(this.#windows.close(), this.#sliceWindows.close());
    await this.#appendPending();
  }

  /** One cycle's counters of every container and user slice (public for the benchmark). */
  async readAll(): Promise<{ containers: ContainerCounters[]; slices: ContainerCounters[] }> {
    const { cgroups, procRoot } = this.#options;
    const counters: ContainerCounters[] = [];
    const found = await cgroups.containers();
    for (const { containerId, path } of found) {
      const reading = await cgroups.read(path);
      if (!reading) continue;
      const network = reading.aPid === null ? null : await readNetDev(reading.aPid, procRoot);
      counters.push({
        containerId,
        user: this.#options.ownerOf(containerId),
        cpuUsageNs: reading.cpuUsageNs,
        memoryCurrentBytes: reading.memoryCurrentBytes,
        memoryLimitBytes: reading.memoryLimitBytes,
        ioReadBytes: reading.ioReadBytes,
        ioWriteBytes: reading.ioWriteBytes,
        pids: reading.pids,
        networkRxBytes: network?.rx ?? null,
        networkTxBytes: network?.tx ?? null,
      });
    }
    const slices: ContainerCounters[] = [];
    for (const { slice, path } of cgroups.userSlicesOf(found)) {
      const reading = await cgroups.read(path);
      if (!reading) continue;
      this.#slicePaths.set(path, slice);
      slices.push({
        containerId: path,
        user: null,
        cpuUsageNs: reading.cpuUsageNs,
        memoryCurrentBytes: reading.memoryCurrentBytes,
        memoryLimitBytes: reading.memoryLimitBytes,
        ioReadBytes: reading.ioReadBytes,
        ioWriteBytes: reading.ioWriteBytes,
        pids: reading.pids,
        networkRxBytes: null,
        networkTxBytes: null,
      });
    }
    return { containers: counters, slices };
  }

  async #cycle(): Promise<void> {
    const now = this.#clock();
    this.cycles++;
    try {
      const { containers, slices } = await this.readAll();
      this.#queue(this.#windows.add(now, containers), this.#sliceWindows.add(now, slices));
    } catch (error) {
      this.#options.logger.error({ err: error }, `cgroup sample failed: ${String(error)}`);
    }
    await this.#appendPending();
  }

  #queue(
    containers: readonly ContainerResourceWindowData[],
    slices: readonly ContainerResourceWindowData[],
  ): void {
    const metadata = (eventId: string, window: { windowStart: string; windowEnd: string }, kind: string) => ({
      eventId,
      occurredAt: window.windowEnd,
      actor: ACTOR,
      host: this.#options.host,
      correlationId: `${kind}:${window.windowStart}`,
      causationId: null,
    });
    for (const window of containers) {
      const eventId = containerUsageWindowEventId(window.host, window.containerId, window.windowStart);
      this.#pending.push({
        stream: containerUsageStream(window.host, window.windowStart),
        event: {
          ...ContainerResourceWindowRecorded(window),
          metadata: metadata(eventId, window, 'container-usage'),
        },
      });
    }
    // A slice's window is a container window keyed by the slice's path, less what a slice has not.
    for (const {
      containerId: path,
      user: _user,
      networkRxBytes: _rx,
      networkTxBytes: _tx,
      ...window
    } of slices) {
      const data = { ...window, slice: this.#slicePaths.get(path) ?? path, path };
      const eventId = userSliceUsageWindowEventId(window.host, path, window.windowStart);
      this.#pending.push({
        stream: userSliceUsageStream(window.host, window.windowStart),
        event: {
          ...UserSliceResourceWindowRecorded(data),
          metadata: metadata(eventId, window, 'user-usage'),
        },
      });
    }
  }

  async #appendPending(): Promise<void> {
    while (this.#pending.length > 0) {
      const { stream, event } = this.#pending[0]!;
      try {
        await this.#options.store.append(stream, [event]);
        this.windowsAppended++;
        this.#storeFailures.recovered({ stream });
      } catch (error) {
        if (!(error instanceof EventIdConflictError)) {
          this.#storeFailures.failed(error, { stream });
          return;
        }
        // Appended by the run before a restart (a partial window at its stop): kept as it was.
      }
      this.#pending.shift();
    }
  }
}
