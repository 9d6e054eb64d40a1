import type { GpuAllocator } from '@ds01/allocation';
import {
  type Actor,
  type EventStore,
  type FailureLogger,
  type RecordedEvent,
  RepeatedFailureLog,
  type Subscription,
  silentLogger,
} from '@ds01/event-store';
import { PositionCheckpoint } from './positionCheckpoint.ts';

export interface GpuHoldManagerOptions {
  store: EventStore;
  allocator: GpuAllocator;
  /** File of the manager's checkpoint (log position). */
  checkpointPath: string;
  /** How often holds are checked for expiry. */
  expiryIntervalMs: number;
  /** How long to wait before trying an event again whose command failed (limits unreadable...). */
  retryDelayMs?: number;
  logger?: FailureLogger;
  /**
   * Resolves once the docker watcher has reconciled Docker with the log (ds01d's 'docker-reconciled'
   * milestone). No hold expires before: until then a container started again while ds01d was down
   * may not be on the log yet. While Docker stays unreachable, holds wait with it — nobody can start
   * a container then, and releasing a GPU its container may be using would be worse.
   */
  dockerReconciled?: Promise<void>;
}

const CONTAINER_EVENTS = ['ContainerStopped', 'ContainerStarted', 'ContainerRemoved'];

/**
 * The process manager between containers and the GPU pool: a container's life (recorded by the
 * docker watcher on its own stream) becomes pool commands —
 *   ContainerStopped → StartGpuHold (held for the owner's gpu_hold_after_stop_h),
 *   ContainerStarted → EndGpuHold (started again within the hold: keeps its GPUs),
 *   ContainerRemoved → ReleaseGpu (nothing to release is fine),
 * and a timer issues ExpireGpuHolds. Times are Docker's own (finishedAt, startedAt), so a stop seen
 * late still runs its hold from when it happened. Each command names its event as causation.
 * After a restart the timer first waits until the manager has caught up with the log as it was at
 * start and the docker watcher has reconciled Docker with the log (its first round can fail and
 * reconcile later, after the allocator started): a container started again within its hold is never
 * expired.
 */
export class GpuHoldManager {
  readonly #options: GpuHoldManagerOptions;
  readonly #checkpoint: PositionCheckpoint;
  readonly #logger: FailureLogger;
  readonly #actor: Actor = { kind: 'service', name: 'gpu-hold-manager' };
  #subscription: Subscription | undefined;
  #loop: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #expiring: Promise<unknown> | undefined;
  #stopping = false;
  #stop: () => void = () => {};
  readonly #stopped = new Promise<void>((resolve) => {
    this.#stop = resolve;
  });
  #waiters: Array<{ position: number; resolve: () => void }> = [];
  #caughtUp: Promise<void> = Promise.resolve();
  #markCaughtUp: () => void = () => {};
  #handling = false;
  /** The subscription caught up while the last event was still in hand. */
  #caughtUpWhileHandling = false;
  readonly #handleFailures: RepeatedFailureLog;
  readonly #expiryFailures: RepeatedFailureLog;

  constructor(options: GpuHoldManagerOptions) {
    this.#options = options;
    this.#checkpoint = new PositionCheckpoint(options.checkpointPath);
    this.#logger = options.logger ?? silentLogger;
    this.#handleFailures = new RepeatedFailureLog({
      logger: this.#logger,
      what: 'could not turn a container event into a GPU pool command',
      retryEveryMs: this.#retryDelayMs,
    });
    this.#expiryFailures = new RepeatedFailureLog({
      logger: this.#logger,
      what: 'could not expire GPU holds',
      retryEveryMs: options.expiryIntervalMs,
    });
  }

  get #retryDelayMs(): number {
    return this.#options.retryDelayMs ?? 5000;
  }

  /** Log position of the last container event handled. */
  get position(): number {
    return this.#checkpoint.position;
  }

  /**
   * Follows the log from the checkpoint; expires holds every expiryIntervalMs, the first time as
   * soon as the events that were on the log at start are handled. Resolves at once: a catch-up
   * that cannot append (a full disk) retries in the background rather than hold up ds01d.
   */
  async start(): Promise<void> {
    this.#stopping = false;
    this.#caughtUpWhileHandling = false;
    this.#caughtUp = new Promise((resolve) => {
      this.#markCaughtUp = resolve;
    });
    this.#subscription = this.#options.store.subscribeToAll({
      after: this.#checkpoint.position,
      filter: { eventTypes: CONTAINER_EVENTS },
      // Everything on the log at start is delivered; the last of it may still be in hand.
      onCaughtUp: () => {
        if (this.#handling) this.#caughtUpWhileHandling = true;
        else this.#markCaughtUp();
      },
    });
    this.#loop = this.#follow(this.#subscription);
    void this.expireNow();
    this.#timer = setInterval(() => void this.expireNow(), this.#options.expiryIntervalMs);
    this.#timer.unref();
  }

  /** Resolves once the events on the log at start() are handled (what expiry waits for). */
  caughtUp(): Promise<void> {
    return this.#caughtUp;
  }

  /**
   * Releases the GPUs of every hold that has run out (what the timer does), once caught up with
   * the log. Never throws.
   */
  expireNow(): Promise<unknown> {
    this.#expiring ??= this.#caughtUp
      .then(() => Promise.race([this.#options.dockerReconciled, this.#stopped]))
      .then(() => (this.#stopping ? [] : this.#options.allocator.expireHolds(this.#actor)))
      .then((events) => {
        this.#expiryFailures.recovered();
        const released = events.filter((e) => e.type === 'GpuReleased').length;
        if (released > 0) this.#logger.info({ released }, 'GPU holds expired: slots released');
      })
      .catch((error: unknown) => this.#expiryFailures.failed(error))
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
    this.#stop();
    if (this.#timer) clearInterval(this.#timer);
    await this.#subscription?.close();
    await this.#loop;
    // An expiry still waiting for a catch-up that will not come now (stopped on a full disk) ends.
    this.#markCaughtUp();
    await this.#expiring;
  }

  async #follow(subscription: Subscription): Promise<void> {
    for await (const event of subscription) {
      this.#handling = true;
      while (!this.#stopping) {
        try {
          await this.#handle(event);
          // The checkpoint is a file on the same disk: a full disk fails it too, and it is retried.
          this.#checkpoint.advance(event.position);
          this.#handleFailures.recovered();
          break;
        } catch (error) {
          this.#handleFailures.failed(error, { eventType: event.type, position: event.position });
          await new Promise((resolve) => setTimeout(resolve, this.#retryDelayMs));
        }
      }
      this.#handling = false;
      if (this.#stopping) return;
      this.#wake();
      if (this.#caughtUpWhileHandling) this.#markCaughtUp();
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
