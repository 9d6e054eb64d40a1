import {
  type GpuInventory,
  type GpuInventoryCommand,
  type GpuInventoryEvent,
  type GpuInventoryState,
  gpuInventoryDecider,
  gpuInventoryStream,
} from '@ds01/domain';
import { Ds01Error } from '@ds01/errors';
import { CommandHandler, type EventStore, RepeatedFailureLog } from '@ds01/event-store';
import type { GpuProbeResult, GpuProcess, GpuSource } from '@ds01/host';
import { PeriodicTask } from '@ds01/service';
import { probeFailureOf } from './probeFailure.ts';
import type { ProcessOwner } from './usage/gpuSampleOf.ts';
import type { GpuUsageRecorder } from './usage/gpuUsageRecorder.ts';

/** The subset of a pino logger the sampler uses. */
export interface SamplerLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** The last probe that worked: what readers get instead of running nvidia-smi themselves. */
export interface GpuSample {
  inventory: GpuInventory;
  processes: GpuProcess[];
  probedAt: Date;
}

export interface GpuSamplerStatus {
  source: string;
  probes: number;
  lastProbeAt: string | null;
  lastSampleAt: string | null;
  /** Probes failed in a row (0 while they work). */
  consecutiveFailures: number;
  failingSince: string | null;
  lastError: string | null;
  eventsAppended: number;
}

export interface GpuSamplerOptions {
  store: EventStore;
  source: GpuSource;
  /** This host's name: the stream is gpu-inventory-<host>. */
  host: string;
  /** Pause between the end of one probe and the start of the next. */
  intervalMs: number;
  logger: SamplerLogger;
  clock?: () => Date;
  /** Usage windows and health from each probe; absent: the inventory only. */
  usage?: GpuUsageRecorder;
  /**
   * Who each GPU process belongs to, and what to do about it (host process detection); absent:
   * processes are recorded without owners.
   */
  processes?: GpuProcessWatch;
}

/** Attributes the GPU processes of a probe (and acts on them); returns each process's owner by pid. */
export interface GpuProcessWatch {
  observe(processes: readonly GpuProcess[], now: Date): Promise<ReadonlyMap<number, ProcessOwner>>;
}

/** No probe has worked yet, so there is no inventory to serve. */
export class GpuSampleUnavailableError extends Ds01Error {
  override name = 'GpuSampleUnavailableError';
}

/** After the first failure is logged as an error, a reminder every this many failed probes. */
const REMIND_EVERY_FAILURES = 20;

/**
 * Probes the GPUs every few seconds, keeps the last sample in memory for readers, and appends to
 * `gpu-inventory-<host>` only what changed (the gpu-inventory decider decides what that is). A probe
 * that fails (timeout, exit code, garbled output) is recorded once when failures begin and once when
 * they end, and logged without flooding; the last good sample stays served. Nothing it meets stops
 * the loop: not nvidia-smi, not the store, not a bug in a parser.
 */
export class GpuSampler {
  readonly #options: GpuSamplerOptions;
  readonly #clock: () => Date;
  readonly #handler: CommandHandler<GpuInventoryCommand, GpuInventoryEvent, GpuInventoryState>;
  readonly #stream: string;
  readonly #storeFailures: RepeatedFailureLog;
  #latest: GpuSample | null = null;
  #waiting: ((sample: GpuSample) => void)[] = [];
  readonly #loop: PeriodicTask;
  #status: GpuSamplerStatus;

  constructor(options: GpuSamplerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? (() => new Date());
    this.#loop = new PeriodicTask(() => this.#probe(), options.intervalMs);
    this.#handler = new CommandHandler(options.store, gpuInventoryDecider);
    this.#stream = gpuInventoryStream(options.host);
    this.#storeFailures = new RepeatedFailureLog({
      logger: options.logger,
      what: 'could not record the GPU probe in the event store',
      retryEveryMs: options.intervalMs,
    });
    this.#status = {
      source: options.source.description,
      probes: 0,
      lastProbeAt: null,
      lastSampleAt: null,
      consecutiveFailures: 0,
      failingSince: null,
      lastError: null,
      eventsAppended: 0,
    };
  }

  /** The last probe that worked, or null before the first. Never runs nvidia-smi. */
  latest(): GpuSample | null {
    return this.#latest;
  }

  /** The last sample, or the first one when it comes (for readers that start before the sampler). */
  nextSample(): Promise<GpuSample> {
    if (this.#latest) return Promise.resolve(this.#latest);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  status(): GpuSamplerStatus {
    return { ...this.#status };
  }

  /**
   * A GpuSource that answers from the last sample instead of running nvidia-smi: what a request
   * path (the allocator) should read. Before the first probe that worked it throws, saying why.
   */
  lastSampleSource(): GpuSource {
    const { source } = this.#options;
    return {
      kind: source.kind,
      description: `the gpu-sampler's last probe of ${source.description}`,
      probe: async () => {
        const sample = this.#latest;
        if (!sample) {
          throw new GpuSampleUnavailableError(
            `no GPU probe has worked yet (${source.description})` +
              (this.#status.lastError ? `: ${this.#status.lastError}` : ''),
          );
        }
        return { inventory: sample.inventory, processes: sample.processes, xml: null };
      },
    };
  }

  /** Probes now (waiting for a probe in flight instead of starting a second). Never throws. */
  probeOnce(): Promise<void> {
    return this.#loop.runOnce();
  }

  /**
   * Starts the loop: a probe after `firstInMs` (default: now), then one `intervalMs` after each
   * ends, so probes never overlap however long nvidia-smi takes.
   */
  start(firstInMs = 0): void {
    this.#loop.start(firstInMs);
  }

  /** Stops the loop, waits for a probe in flight to be recorded, and appends the window being filled. */
  async stop(): Promise<void> {
    await this.#loop.stop();
    await this.#options.usage?.flush();
  }

  async #probe(): Promise<void> {
    const now = this.#clock();
    this.#status.probes++;
    this.#status.lastProbeAt = now.toISOString();
    let result: GpuProbeResult;
    try {
      result = await this.#options.source.probe();
    } catch (error) {
      await this.#failed(error, now);
      return;
    }
    this.#succeeded(result, now);
    await this.#record({ type: 'RecordGpuProbe', inventory: result.inventory, now });
    await this.#recordUsage(result, now);
  }

  async #recordUsage(result: GpuProbeResult, now: Date): Promise<void> {
    const { usage, processes, logger } = this.#options;
    try {
      const owners = processes ? await processes.observe(result.processes, now) : new Map();
      if (!usage) return;
      const dcgm = await usage.readDcgm();
      await usage.record({
        inventory: result.inventory,
        xml: result.xml,
        dcgm,
        processes: result.processes,
        owners,
        at: now,
      });
    } catch (error) {
      // A bug in attribution or aggregation must not stop the inventory from being probed.
      logger.error({ err: error }, `GPU usage of this probe not recorded (a DS01 bug): ${String(error)}`);
    }
  }

  #succeeded(result: GpuProbeResult, now: Date): void {
    const { logger } = this.#options;
    if (this.#status.consecutiveFailures > 0) {
      logger.info(
        { failedProbes: this.#status.consecutiveFailures, failingSince: this.#status.failingSince },
        `GPU probe works again (${this.#options.source.description})`,
      );
    }
    this.#status.consecutiveFailures = 0;
    this.#status.failingSince = null;
    this.#status.lastSampleAt = now.toISOString();
    this.#latest = { inventory: result.inventory, processes: result.processes, probedAt: now };
    for (const resolve of this.#waiting.splice(0)) resolve(this.#latest);
  }

  async #failed(error: unknown, now: Date): Promise<void> {
    const { logger } = this.#options;
    const failure = probeFailureOf(error);
    const message = error instanceof Error ? error.message : String(error);
    this.#status.consecutiveFailures++;
    this.#status.failingSince ??= now.toISOString();
    this.#status.lastError = message;
    const count = this.#status.consecutiveFailures;
    const fields = {
      reason: failure?.reason ?? 'bug',
      failedProbes: count,
      failingSince: this.#status.failingSince,
    };
    if (!failure) {
      logger.error(
        { ...fields, err: error },
        `GPU probe failed on an unexpected error (a DS01 bug): ${message}`,
      );
      return;
    }
    if (count === 1) {
      logger.error(fields, `GPU probe failed: ${message}; serving the last inventory until it works again`);
    } else if (count % REMIND_EVERY_FAILURES === 0) {
      logger.warn(
        fields,
        `GPU probe still failing (${count} probes since ${this.#status.failingSince}): ${message}`,
      );
    } else {
      logger.debug(fields, `GPU probe failed again: ${message}`);
    }
    await this.#record({ type: 'RecordGpuProbeFailure', failure, now });
  }

  async #record(command: GpuInventoryCommand): Promise<void> {
    try {
      const { events } = await this.#handler.handle(this.#stream, command, {
        actor: { kind: 'service', name: 'gpu-sampler' },
        host: this.#options.host,
        now: command.now,
      });
      this.#status.eventsAppended += events.length;
      const changes = events.filter(
        (event) => event.type !== 'GpuProbeFailed' && event.type !== 'GpuProbeRecovered',
      );
      if (changes.length > 0) {
        this.#options.logger.info(
          { stream: this.#stream, events: changes.map((event) => event.type) },
          `GPU inventory recorded: ${describeChanges(changes)}`,
        );
      }
      this.#storeFailures.recovered({ stream: this.#stream });
    } catch (error) {
      // The store is down or refused the events: the next probe decides again from the stream.
      this.#storeFailures.failed(error, { stream: this.#stream });
    }
  }
}

/** "2 GPUs, 5 slots" for the first inventory; "GPU 1 lost; MIG layout of GPU 2 changed" after. */
function describeChanges(events: readonly GpuInventoryEvent[]): string {
  const parts = events.flatMap((event): string[] => {
    switch (event.type) {
      case 'GpuLost':
        return [
          `GPU ${event.data.gpu.index} lost${event.data.movedTo === null ? '' : ` (now GPU ${event.data.movedTo})`}`,
        ];
      case 'GpuAppeared':
        return [`GPU ${event.data.gpu.index} appeared (${event.data.gpu.name})`];
      case 'MigLayoutChanged':
        return [
          `MIG layout of GPU ${event.data.gpuIndex} changed (removed: ${event.data.removedSlots.join(', ') || 'none'}; ` +
            `added: ${event.data.addedSlots.join(', ') || 'none'})`,
        ];
      default:
        return [];
    }
  });
  if (parts.length > 0) return parts.join('; ');
  const observed = events.find((event) => event.type === 'GpuInventoryObserved');
  if (!observed) return events.map((event) => event.type).join(', ');
  const { gpus, source } = observed.data.inventory;
  const migSlots = gpus.reduce((n, gpu) => n + gpu.migSlots.length, 0);
  return `${gpus.length} GPU${gpus.length === 1 ? '' : 's'} (${source}), ${gpus.filter((gpu) => gpu.migEnabled).length} with MIG, ${migSlots} MIG slots`;
}
