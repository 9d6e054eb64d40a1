import {
  type ContainerCounters,
  type ContainerResourceWindowData,
  ContainerResourceWindowRecorded,
  ContainerResourceWindows,
  containerUsageStream,
  containerUsageWindowEventId,
} from '@ds01/domain';
import { EventIdConflictError, type EventStore, RepeatedFailureLog } from '@ds01/event-store';
import { type CgroupFs, readNetDev } from '@ds01/host';

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
 * window closes (one id per host, container and window: appended once, also across a restart).
 */
export class CgroupSampler {
  readonly #options: CgroupSamplerOptions;
  readonly #clock: () => Date;
  readonly #windows: ContainerResourceWindows;
  readonly #storeFailures: RepeatedFailureLog;
  #pending: ContainerResourceWindowData[] = [];
  #timer: NodeJS.Timeout | null = null;
  #inFlight: Promise<void> | null = null;
  #stopped = true;
  cycles = 0;
  windowsAppended = 0;

  constructor(options: CgroupSamplerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? (() => new Date());
    this.#windows = new ContainerResourceWindows({ host: options.host, windowMs: options.windowMs });
    this.#storeFailures = new RepeatedFailureLog({
      logger: options.logger,
      what: 'could not record container usage in the event store',
      retryEveryMs: options.windowMs,
    });
  }

  /** Samples now (waiting for a cycle in flight instead of starting a second). Never throws. */
  sampleOnce(): Promise<void> {
    this.#inFlight ??= this.#cycle().finally(() => {
      this.#inFlight = null;
    });
    return this.#inFlight;
  }

  start(firstInMs = 0): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    const tick = async () => {
      await this.sampleOnce();
      if (!this.#stopped) this.#timer = setTimeout(tick, this.#options.intervalMs);
    };
    this.#timer = setTimeout(tick, firstInMs);
  }

  /** Stops, waits for a cycle in flight, and appends the window being filled (partial). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#inFlight;
    this.#pending.push(...this.#windows.close());
    await this.#appendPending();
  }

  /** One cycle's counters of every container (exported for the benchmark). */
  async readAll(): Promise<ContainerCounters[]> {
    const { cgroups, procRoot } = this.#options;
    const counters: ContainerCounters[] = [];
    for (const { containerId, path } of await cgroups.containers()) {
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
    return counters;
  }

  async #cycle(): Promise<void> {
    const now = this.#clock();
    this.cycles++;
    try {
      this.#pending.push(...this.#windows.add(now, await this.readAll()));
    } catch (error) {
      this.#options.logger.error({ err: error }, `cgroup sample failed: ${String(error)}`);
    }
    await this.#appendPending();
  }

  async #appendPending(): Promise<void> {
    while (this.#pending.length > 0) {
      const window = this.#pending[0]!;
      const stream = containerUsageStream(window.host, window.windowStart);
      try {
        await this.#options.store.append(stream, [
          {
            ...ContainerResourceWindowRecorded(window),
            metadata: {
              eventId: containerUsageWindowEventId(window.host, window.containerId, window.windowStart),
              occurredAt: window.windowEnd,
              actor: ACTOR,
              host: this.#options.host,
              correlationId: `container-usage:${window.windowStart}`,
              causationId: null,
            },
          },
        ]);
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
