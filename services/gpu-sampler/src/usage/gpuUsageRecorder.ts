import {
  DEFAULT_GPU_HEALTH_THRESHOLDS,
  type GpuHealthEvent,
  type GpuHealthState,
  type GpuHealthThresholds,
  type GpuUsageWindowData,
  GpuUsageWindowRecorded,
  GpuUsageWindows,
  gpuHealthDecider,
  gpuHealthStream,
  gpuUsageStream,
  gpuUsageWindowEventId,
  type RecordGpuHealth,
  type UsageDevice,
  type UsageHolder,
} from '@ds01/domain';
import { CommandHandler, EventIdConflictError, type EventStore, RepeatedFailureLog } from '@ds01/event-store';
import { type DcgmEntity, DcgmExporterError, readDcgmExporter } from '@ds01/host';
import type { SamplerLogger } from '../gpuSampler.ts';
import { type GpuReadings, gpuHealthReadingsOf, gpuSampleOf } from './gpuSampleOf.ts';

export interface GpuUsageRecorderOptions {
  store: EventStore;
  host: string;
  logger: SamplerLogger;
  /** Length of a usage window (clock-aligned). */
  windowMs: number;
  /** dcgm-exporter's /metrics, read once per cycle; null: not configured (activity on MIG unknown). */
  dcgm: { url: string; timeoutMs: number } | null;
  healthThresholds?: GpuHealthThresholds;
  /** Holders of this host's slots now, by slot (the allocation projection); absent: free. */
  holders: () => ReadonlyMap<string, UsageHolder>;
}

const FREE: UsageHolder = { containerId: null, user: null };
const ACTOR = { kind: 'service', name: 'gpu-sampler' } as const;

/**
 * The usage side of the GPU sampler: reads dcgm-exporter once per cycle, aggregates each cycle into
 * the usage windows and appends a window when it closes (one event per device per window, with an id
 * from host, slot and window start), and records GPU health on change. A window of a previous run
 * (appended at its shutdown, partial) is not appended twice: the store refuses the second, which is
 * skipped.
 */
export class GpuUsageRecorder {
  readonly #options: GpuUsageRecorderOptions;
  readonly #windows: GpuUsageWindows;
  readonly #health: CommandHandler<RecordGpuHealth, GpuHealthEvent, GpuHealthState>;
  readonly #dcgmFailures: RepeatedFailureLog;
  readonly #storeFailures: RepeatedFailureLog;
  /** Windows closed but not yet appended (the store was down): tried again next cycle. */
  #pending: GpuUsageWindowData[] = [];
  windowsAppended = 0;

  constructor(options: GpuUsageRecorderOptions) {
    this.#options = options;
    this.#windows = new GpuUsageWindows({ host: options.host, windowMs: options.windowMs });
    this.#health = new CommandHandler(options.store, gpuHealthDecider);
    this.#dcgmFailures = new RepeatedFailureLog({
      logger: options.logger,
      what: 'could not read dcgm-exporter (GPU activity on MIG slices is unknown meanwhile)',
      retryEveryMs: options.windowMs,
    });
    this.#storeFailures = new RepeatedFailureLog({
      logger: options.logger,
      what: 'could not record GPU usage in the event store',
      retryEveryMs: options.windowMs,
    });
  }

  /** dcgm-exporter's entities now, or null (not configured, or failing: logged without flooding). */
  async readDcgm(): Promise<DcgmEntity[] | null> {
    const { dcgm } = this.#options;
    if (!dcgm) return null;
    try {
      const entities = await readDcgmExporter(dcgm.url, { timeoutMs: dcgm.timeoutMs });
      this.#dcgmFailures.recovered({ url: dcgm.url });
      return entities;
    } catch (error) {
      if (!(error instanceof DcgmExporterError)) throw error;
      this.#dcgmFailures.failed(error, { url: dcgm.url, reason: error.kind });
      return null;
    }
  }

  /** Takes one cycle's readings; appends the windows it closed and any change of health. */
  async record(readings: GpuReadings): Promise<void> {
    const holders = this.#options.holders();
    const holderOf = (device: UsageDevice) => holders.get(device.slot) ?? FREE;
    this.#pending.push(...this.#windows.add(gpuSampleOf(readings), holderOf));
    await this.#appendPending();
    const healthReadings = gpuHealthReadingsOf(readings);
    if (healthReadings.length === 0) return;
    try {
      await this.#health.handle(
        gpuHealthStream(this.#options.host),
        {
          type: 'RecordGpuHealth',
          readings: healthReadings,
          thresholds: this.#options.healthThresholds ?? DEFAULT_GPU_HEALTH_THRESHOLDS,
          now: readings.at,
        },
        { actor: ACTOR, host: this.#options.host, now: readings.at },
      );
    } catch (error) {
      this.#storeFailures.failed(error, { stream: gpuHealthStream(this.#options.host) });
    }
  }

  /** Appends the window being filled as it is (at shutdown), and whatever is still pending. */
  async flush(): Promise<void> {
    const holders = this.#options.holders();
    this.#pending.push(...this.#windows.close((device) => holders.get(device.slot) ?? FREE));
    await this.#appendPending();
  }

  async #appendPending(): Promise<void> {
    while (this.#pending.length > 0) {
      const window = this.#pending[0]!;
      const stream = gpuUsageStream(window.host, window.windowStart);
      const event = GpuUsageWindowRecorded(window);
      try {
        await this.#options.store.append(stream, [
          {
            ...event,
            metadata: {
              eventId: gpuUsageWindowEventId(window.host, window.device.slot, window.windowStart),
              occurredAt: window.windowEnd,
              actor: ACTOR,
              host: this.#options.host,
              correlationId: `gpu-usage:${window.windowStart}`,
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
        this.#options.logger.debug(
          { stream, slot: window.device.slot, windowStart: window.windowStart },
          'usage window already recorded (by the run before a restart): kept as it was',
        );
      }
      this.#pending.shift();
    }
  }
}
