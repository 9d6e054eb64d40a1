import type { Actor, EventStore, RecordedEvent, Subscription } from '@ds01/event-store';
import type { GpuAllocator } from './gpuAllocator.ts';
import { PositionCheckpoint } from './positionCheckpoint.ts';

/** What the hold manager logs through; a pino logger fits. */
export interface HoldManagerLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface GpuHoldManagerOptions {
  store: EventStore;
  allocator: GpuAllocator;
  /** File of the manager's checkpoint (log position). */
  checkpointPath: string;
  /** How often holds are checked for expiry. */
  expiryIntervalMs: number;
  /** How long to wait before trying an event again whose command failed (limits unreadable...). */
  retryDelayMs?: number;
  logger?: HoldManagerLogger;
}

const CONTAINER_EVENTS = ['ContainerStopped', 'ContainerStarted', 'ContainerRemoved'];
const silent: HoldManagerLogger = { info() {}, warn() {}, error() {} };

/**
 * The process manager between containers and the GPU pool: a container's life (recorded by the
 * docker watcher on its own stream) becomes pool commands —
 *   ContainerStopped → StartGpuHold (held for the owner's gpu_hold_after_stop_h),
 *   ContainerStarted → EndGpuHold (started again within the hold: keeps its GPUs),
 *   ContainerRemoved → ReleaseGpu (nothing to release is fine),
 * and a timer issues ExpireGpuHolds. Times are Docker's own (finishedAt, startedAt), so a stop seen
 * late still runs its hold from when it happened. Each command names its event as causation.
 */
export class GpuHoldManager {
  readonly #options: GpuHoldManagerOptions;
  readonly #checkpoint: PositionCheckpoint;
  readonly #logger: HoldManagerLogger;
  readonly #actor: Actor = { kind: 'service', name: 'gpu-hold-manager' };
  #subscription: Subscription | undefined;
  #loop: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #expiring: Promise<unknown> | undefined;
  #stopping = false;
  #waiters: Array<{ position: number; resolve: () => void }> = [];

  constructor(options: GpuHoldManagerOptions) {
    this.#options = options;
    this.#checkpoint = new PositionCheckpoint(options.checkpointPath);
    this.#logger = options.logger ?? silent;
  }

  /** Log position of the last container event handled. */
  get position(): number {
    return this.#checkpoint.position;
  }

  /** Follows the log from the checkpoint; expires holds every expiryIntervalMs (and once now). */
  async start(): Promise<void> {
    this.#stopping = false;
    this.#subscription = this.#options.store.subscribeToAll({
      after: this.#checkpoint.position,
      filter: { eventTypes: CONTAINER_EVENTS },
    });
    this.#loop = this.#follow(this.#subscription);
    await this.expireNow();
    this.#timer = setInterval(() => void this.expireNow(), this.#options.expiryIntervalMs);
    this.#timer.unref();
  }

  /** Releases the GPUs of every hold that has run out (what the timer does). Never throws. */
  expireNow(): Promise<unknown> {
    this.#expiring ??= this.#options.allocator
      .expireHolds(this.#actor)
      .then((events) => {
        const released = events.filter((e) => e.type === 'GpuReleased').length;
        if (released > 0) this.#logger.info({ released }, 'GPU holds expired: slots released');
      })
      .catch((error: unknown) =>
        this.#logger.error({ err: error }, 'could not expire GPU holds; trying again later'),
      )
      .finally(() => {
        this.#expiring = undefined;
      });
    return this.#expiring;
  }

  /** Resolves once every container event up to this log position has been handled. */
  waitFor(position: number): Promise<void> {
    if (this.#checkpoint.position >= position) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ position, resolve }));
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#subscription?.close();
    await this.#loop;
    await this.#expiring;
  }

  async #follow(subscription: Subscription): Promise<void> {
    for await (const event of subscription) {
      while (!this.#stopping) {
        try {
          await this.#handle(event);
          break;
        } catch (error) {
          this.#logger.error(
            { err: error, eventType: event.type, position: event.position },
            'could not turn a container event into a GPU pool command; trying again',
          );
          await new Promise((resolve) => setTimeout(resolve, this.#options.retryDelayMs ?? 5000));
        }
      }
      if (this.#stopping) return;
      this.#checkpoint.advance(event.position);
      this.#wake();
    }
  }

  async #handle(event: RecordedEvent): Promise<void> {
    const { allocator } = this.#options;
    const data = event.data as { containerId: string; finishedAt?: string; startedAt?: string };
    const cause = event.metadata.eventId;
    switch (event.type) {
      case 'ContainerStopped':
        await allocator.startHold(data.containerId, new Date(data.finishedAt!), this.#actor, cause);
        return;
      case 'ContainerStarted':
        await allocator.endHold(data.containerId, new Date(data.startedAt!), this.#actor, cause);
        return;
      case 'ContainerRemoved':
        await allocator.release(
          { target: { container: data.containerId }, reason: 'container_removed', ifNothingHeld: 'ignore' },
          this.#actor,
          cause,
        );
        return;
    }
  }

  #wake(): void {
    const position = this.#checkpoint.position;
    const ready = this.#waiters.filter((w) => w.position <= position);
    this.#waiters = this.#waiters.filter((w) => w.position > position);
    for (const w of ready) w.resolve();
  }
}
