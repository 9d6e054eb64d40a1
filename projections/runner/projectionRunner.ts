import type { DatabaseSync } from 'node:sqlite';
import {
  asStoreError,
  type EventStore,
  type FailureLogger,
  type RecordedEvent,
  RepeatedFailureLog,
  StoreUnavailableError,
  type Subscription,
} from '@ds01/event-store';
import { ProjectionFailedError, UnknownProjectionError } from './errors.ts';
import type { Projection } from './projection.ts';
import { type Checkpoint, readCheckpoints, writeCheckpoint } from './projectionsDb.ts';

/** What the runner logs through; a pino logger fits. */
export type RunnerLogger = FailureLogger;

export type ProjectionState = 'idle' | 'catching-up' | 'rebuilding' | 'live' | 'failed';

export interface ProjectionStatus {
  name: string;
  version: number;
  state: ProjectionState;
  /** Last log position applied (or scanned past) and committed. */
  position: number;
  error: ProjectionFailedError | undefined;
}

/** Progress of a catch-up or rebuild, reported after every committed batch. */
export interface ProgressReport {
  projection: string;
  /** Log positions covered so far and in all (positions, not events: they need not be dense). */
  done: number;
  total: number;
  /** Events applied so far in this run. */
  applied: number;
}

export interface ProjectionRunnerOptions {
  store: EventStore;
  /** The projections database (openProjectionsDb), written by this runner only. */
  db: DatabaseSync;
  projections: readonly Projection[];
  logger?: RunnerLogger;
  /** Events applied per transaction during catch-up, and at most per transaction when live. */
  batchSize?: number;
  /** How long a live projection waits before it writes again when its database refused (a full disk). */
  storageRetryMs?: number;
}

const silent: RunnerLogger = { info() {}, warn() {}, error() {}, debug() {} };

/**
 * Keeps read models up to date: each projection catches up from its checkpoint by reading the log
 * in pages, then follows it live. Every batch of events and the checkpoint that covers it are
 * written in one transaction, so a crash never applies an event twice or skips one.
 *
 * All projections share one database connection; node:sqlite is synchronous, so each batch's
 * transaction runs start to commit without yielding, and batches of different projections never
 * interleave.
 */
export class ProjectionRunner {
  readonly #store: EventStore;
  readonly #db: DatabaseSync;
  readonly #logger: RunnerLogger;
  readonly #batchSize: number;
  readonly #storageRetryMs: number;
  readonly #workers: Map<string, ProjectionWorker>;
  #live = false;

  constructor(options: ProjectionRunnerOptions) {
    this.#store = options.store;
    this.#db = options.db;
    this.#logger = options.logger ?? silent;
    this.#batchSize = options.batchSize ?? 1000;
    this.#storageRetryMs = options.storageRetryMs ?? 5000;
    this.#workers = new Map();
    for (const projection of options.projections) {
      if (this.#workers.has(projection.name)) {
        throw new Error(`two projections are named '${projection.name}': names must be unique`);
      }
      this.#workers.set(projection.name, new ProjectionWorker(projection, this.#context()));
    }
  }

  /**
   * Creates every projection's tables and loads the checkpoints. A projection whose stored version
   * differs from its code's is reset here, so that the catch-up that follows rebuilds it.
   */
  prepare(): void {
    const checkpoints = readCheckpoints(this.#db);
    for (const worker of this.#workers.values()) {
      const checkpoint = checkpoints.get(worker.name);
      if (checkpoint && checkpoint.version !== worker.version) {
        this.#logger.warn(
          { projection: worker.name, from: checkpoint.version, to: worker.version },
          'projection version changed: rebuilding it from the start of the log',
        );
        worker.reset();
      } else {
        worker.setup(checkpoint);
      }
    }
  }

  /** Brings every projection (or the named ones) up to the log's current head. */
  async catchUp(options: { only?: readonly string[]; onProgress?: (report: ProgressReport) => void } = {}) {
    for (const worker of this.#select(options.only)) {
      await worker.catchUp(options.onProgress);
    }
  }

  /** prepare(), catch up, then follow the log live until stop(). Failed projections stay stopped. */
  async start(): Promise<void> {
    this.prepare();
    await this.catchUp();
    this.#live = true;
    for (const worker of this.#workers.values()) worker.goLive();
  }

  /**
   * Rebuilds projections from position 0: resets their tables and checkpoint in one transaction,
   * then replays the log in batches. Readers see the tables fill up; a crash midway resumes as an
   * ordinary catch-up. While live, the projection pauses during its rebuild.
   *
   * `atomic` (the runner not live: `ds01 projections rebuild`): the whole rebuild is one
   * transaction, so readers keep the old read models until it commits the complete new ones, and
   * an interruption (`signal`, a crash, kill -9) leaves the old ones. `signal` is checked between
   * batches; an aborted rebuild rejects with the signal's reason after rolling back (atomic) or
   * keeping the batches committed so far (not atomic: the next catch-up resumes).
   */
  async rebuild(
    names: readonly string[] | 'all',
    options: { onProgress?: (report: ProgressReport) => void; atomic?: boolean; signal?: AbortSignal } = {},
  ): Promise<ProjectionStatus[]> {
    const workers = this.#select(names === 'all' ? undefined : names);
    if (!options.atomic) {
      for (const worker of workers) {
        await worker.pause();
        worker.reset();
        await worker.catchUp(options.onProgress, 'rebuilding', options.signal);
        if (this.#live) worker.goLive();
      }
      return workers.map((worker) => worker.status());
    }
    if (this.#live) throw new Error('an atomic rebuild needs a runner that is not live: stop() it first');
    const positions = workers.map((worker) => worker.status().position);
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      for (const worker of workers) {
        worker.reset();
        await worker.catchUp(options.onProgress, 'rebuilding', options.signal);
      }
      options.signal?.throwIfAborted();
      this.#db.exec('COMMIT');
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      for (const [i, worker] of workers.entries()) worker.restore(positions[i]!);
      throw error;
    }
    return workers.map((worker) => worker.status());
  }

  /** Resolves once every running projection has committed everything up to this position. */
  async waitFor(position: number): Promise<void> {
    await Promise.all([...this.#workers.values()].map((worker) => worker.waitFor(position)));
  }

  status(): ProjectionStatus[] {
    return [...this.#workers.values()].map((worker) => worker.status());
  }

  /** Stops following the log; commits what was received. The database stays open (the caller's). */
  async stop(): Promise<void> {
    this.#live = false;
    await Promise.all([...this.#workers.values()].map((worker) => worker.pause()));
  }

  #select(names: readonly string[] | undefined): ProjectionWorker[] {
    if (!names) return [...this.#workers.values()];
    return names.map((name) => {
      const worker = this.#workers.get(name);
      if (!worker) throw new UnknownProjectionError(name, [...this.#workers.keys()]);
      return worker;
    });
  }

  #context(): WorkerContext {
    return {
      store: this.#store,
      db: this.#db,
      logger: this.#logger,
      batchSize: this.#batchSize,
      storageRetryMs: this.#storageRetryMs,
    };
  }
}

interface WorkerContext {
  store: EventStore;
  db: DatabaseSync;
  logger: RunnerLogger;
  batchSize: number;
  storageRetryMs: number;
}

/**
 * The projections database itself refused the write (a full or read-only disk, an I/O error): not
 * the projection's fault, and healed once the admin acts. The transaction rolled back, so the read
 * model and its checkpoint are as they were; the same events are applied again later.
 */
function storageFailureOf(db: DatabaseSync, error: unknown): StoreUnavailableError | undefined {
  const translated = asStoreError(db.location() ?? 'projections.db', error);
  if (!(translated instanceof StoreUnavailableError)) return undefined;
  return ['disk_full', 'read_only', 'io', 'locked'].includes(translated.reason) ? translated : undefined;
}

/** One projection's progress through the log: catch-up, live following, batches, failure. */
class ProjectionWorker {
  readonly #projection: Projection;
  readonly #ctx: WorkerContext;
  readonly #filter: { eventTypes?: readonly string[] };
  #position = 0;
  #state: ProjectionState = 'idle';
  #error: ProjectionFailedError | undefined;
  #subscription: Subscription | undefined;
  #following: Promise<void> | undefined;
  #pending: RecordedEvent[] = [];
  #flushScheduled = false;
  #storageRetry: NodeJS.Timeout | undefined;
  readonly #storageFailures: RepeatedFailureLog;
  #waiters: { position: number; resolve: () => void }[] = [];

  constructor(projection: Projection, ctx: WorkerContext) {
    this.#projection = projection;
    this.#ctx = ctx;
    this.#filter = projection.eventTypes.length > 0 ? { eventTypes: projection.eventTypes } : {};
    this.#storageFailures = new RepeatedFailureLog({
      logger: ctx.logger,
      what: `projection ${projection.name} could not write its read model`,
      retryEveryMs: ctx.storageRetryMs,
    });
  }

  get name(): string {
    return this.#projection.name;
  }

  get version(): number {
    return this.#projection.version;
  }

  status(): ProjectionStatus {
    return {
      name: this.name,
      version: this.version,
      state: this.#state,
      position: this.#position,
      error: this.#error,
    };
  }

  /** Creates the tables; a projection seen for the first time gets its checkpoint at 0. */
  setup(checkpoint: Checkpoint | undefined): void {
    this.#transaction(() => {
      this.#projection.setup(this.#ctx.db);
      if (!checkpoint) this.#writeCheckpoint(0, null);
    });
    this.#position = checkpoint?.position ?? 0;
  }

  /** After a rolled-back rebuild: the database holds the old tables again, at this checkpoint. */
  restore(position: number): void {
    this.#position = position;
    this.#state = 'idle';
  }

  /** Drops the tables, recreates them and sets the checkpoint to 0, in one transaction. */
  reset(): void {
    this.#transaction(() => {
      this.#projection.reset(this.#ctx.db);
      this.#projection.setup(this.#ctx.db);
      this.#writeCheckpoint(0, null);
    });
    this.#position = 0;
    this.#error = undefined;
    this.#state = 'idle';
  }

  async catchUp(
    onProgress?: (report: ProgressReport) => void,
    state: 'catching-up' | 'rebuilding' = 'catching-up',
    signal?: AbortSignal,
  ): Promise<void> {
    this.#state = state;
    this.#error = undefined;
    const { store, batchSize, logger } = this.#ctx;
    const start = this.#position;
    let applied = 0;
    const startedAt = Date.now();
    for (;;) {
      if (signal) {
        // The store may answer reads without leaving the microtask queue: let a signal's handler run.
        await new Promise((resolve) => setImmediate(resolve));
        signal.throwIfAborted();
      }
      // Read the head first: a page shorter than the batch then proves that every event up to
      // that head has been seen, so the checkpoint may move there even if no event matched.
      const head = await store.headPosition();
      // A catch-up or rebuild replays what the store validated on append: parsing every event with
      // its schema again was most of a rebuild's time (the live subscription still validates).
      const batch = await store.readBatch({
        after: this.#position,
        filter: this.#filter,
        maxCount: batchSize,
        revalidate: false,
      });
      const complete = batch.length < batchSize;
      if (!this.#applyBatch(batch, complete ? head : 0)) return;
      applied += batch.length;
      onProgress?.({
        projection: this.name,
        done: this.#position - start,
        total: Math.max(head, this.#position) - start,
        applied,
      });
      if (complete) break;
    }
    this.#state = 'idle';
    if (applied > 0 || state === 'rebuilding') {
      logger.info(
        { projection: this.name, applied, position: this.#position, ms: Date.now() - startedAt },
        state === 'rebuilding' ? 'projection rebuilt' : 'projection caught up',
      );
    }
    this.#notifyWaiters();
  }

  /** Follows the log from the checkpoint, applying what arrives together in one transaction. */
  goLive(): void {
    if (this.#state === 'failed' || this.#subscription) return;
    this.#state = 'live';
    const subscription = this.#ctx.store.subscribeToAll({ after: this.#position, filter: this.#filter });
    this.#subscription = subscription;
    this.#following = (async () => {
      try {
        for await (const event of subscription) {
          this.#pending.push(event);
          if (this.#pending.length >= this.#ctx.batchSize) this.#flush();
          else this.#scheduleFlush();
        }
      } catch (error) {
        this.#ctx.logger.error(
          { projection: this.name, err: error },
          'projection lost its subscription to the log; it stays stopped until ds01d restarts',
        );
        this.#state = 'failed';
      } finally {
        this.#flush();
      }
    })();
  }

  /** Stops following the log after committing what was received. */
  async pause(): Promise<void> {
    const subscription = this.#subscription;
    if (!subscription) return;
    this.#subscription = undefined;
    await subscription.close();
    await this.#following;
    this.#following = undefined;
    // Events the database refused are not committed: the next goLive reads them again from the
    // checkpoint, so keeping them would apply them twice.
    clearTimeout(this.#storageRetry);
    this.#storageRetry = undefined;
    this.#pending = [];
    if (this.#state === 'live') this.#state = 'idle';
  }

  /**
   * Resolves once no event this projection reads is left at or before `position` (positions move
   * only on matching events, so comparing the checkpoint alone would wait forever on a filter).
   */
  async waitFor(position: number): Promise<void> {
    for (;;) {
      if (this.#position >= position || this.#state === 'failed') return;
      const next = await this.#nextEvent();
      if (!next || next.position > position) return;
      if (this.#state === 'idle') {
        throw new Error(`projection ${this.name} is not running: it cannot reach position ${position}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.#waiters.push({
          position,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    }
  }

  async #nextEvent(): Promise<RecordedEvent | undefined> {
    for await (const event of this.#ctx.store.readAll({
      after: this.#position,
      filter: this.#filter,
      maxCount: 1,
    })) {
      return event;
    }
    return undefined;
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#storageRetry) return;
    this.#flushScheduled = true;
    // Runs after the subscription has handed over every event it had at hand: one transaction.
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    // While a refused write waits for its retry, events only gather (one try per retry period).
    if (this.#pending.length === 0 || this.#state === 'failed' || this.#storageRetry) return;
    const batch = this.#pending;
    this.#pending = [];
    let applied: boolean;
    try {
      applied = this.#applyBatch(batch, 0);
      this.#storageFailures.recovered({ projection: this.name, position: this.#position });
    } catch (error) {
      const storage = storageFailureOf(this.#ctx.db, error);
      if (!storage) throw error;
      // Keep the events (nothing of them was committed) and write them again later, with what
      // arrives meanwhile. Stopped before that: the checkpoint still says where to resume.
      this.#pending = [...batch, ...this.#pending];
      this.#storageFailures.failed(storage, { projection: this.name, position: this.#position });
      if (this.#subscription) {
        this.#storageRetry = setTimeout(() => {
          this.#storageRetry = undefined;
          this.#flush();
        }, this.#ctx.storageRetryMs);
      }
      return;
    }
    if (!applied) {
      void this.#subscription?.close();
      this.#subscription = undefined;
    }
    this.#notifyWaiters();
  }

  /**
   * Applies events and moves the checkpoint in one transaction (to `scannedTo` when that is
   * further: events in between did not match the filter). On a failing apply(), keeps the
   * events before the failing one and stops the projection there. False when it failed.
   */
  #applyBatch(events: readonly RecordedEvent[], scannedTo: number): boolean {
    const last = events.at(-1)?.position ?? this.#position;
    const target = Math.max(last, scannedTo);
    if (target <= this.#position && events.length === 0) return true;
    const { applyBatch } = this.#projection;
    if (applyBatch && events.length > 1) {
      try {
        this.#commitThrough(target, () => applyBatch(this.#ctx.db, events));
        return true;
      } catch (cause) {
        const storage = storageFailureOf(this.#ctx.db, cause);
        if (storage) throw storage;
        // Rolled back: apply() one event after another below finds the failing event (or, for a
        // projection whose batch and single paths disagree, commits what apply() makes of it).
      }
    }
    let failedAt = -1;
    try {
      this.#commitThrough(target, () => {
        for (let i = 0; i < events.length; i++) {
          failedAt = i;
          this.#projection.apply(this.#ctx.db, events[i]!);
        }
        failedAt = -1;
      });
      return true;
    } catch (cause) {
      // The database itself failed (commit, checkpoint, or a full disk under apply()): not the
      // projection's fault, and nothing of the batch is committed.
      const storage = storageFailureOf(this.#ctx.db, cause);
      if (storage) throw storage;
      if (failedAt < 0) throw cause;
      this.#fail(events, failedAt, cause);
      return false;
    }
  }

  /** Runs `applyEvents` and moves the checkpoint to `target` in one transaction. */
  #commitThrough(target: number, applyEvents: () => void): void {
    this.#transaction(() => {
      applyEvents();
      this.#writeCheckpoint(target, null);
    });
    this.#position = target;
  }

  #fail(events: readonly RecordedEvent[], index: number, cause: unknown): void {
    const event = events[index]!;
    const error = new ProjectionFailedError(this.name, event, cause);
    const kept = events.slice(0, index);
    try {
      this.#transaction(() => {
        for (const earlier of kept) this.#projection.apply(this.#ctx.db, earlier);
        this.#writeCheckpoint(kept.at(-1)?.position ?? this.#position, error.message);
      });
      this.#position = kept.at(-1)?.position ?? this.#position;
    } catch {
      // apply() is not deterministic on replay: keep the previous checkpoint, record the error.
      this.#transaction(() => this.#writeCheckpoint(this.#position, error.message));
    }
    this.#error = error;
    this.#state = 'failed';
    this.#ctx.logger.error(
      {
        projection: this.name,
        position: event.position,
        eventType: event.type,
        streamId: event.streamId,
        err: cause,
      },
      error.message,
    );
    this.#notifyWaiters();
  }

  #writeCheckpoint(position: number, error: string | null): void {
    writeCheckpoint(this.#ctx.db, { projection: this.name, position, version: this.version, error });
  }

  /** One transaction; inside an atomic rebuild's, a savepoint of it (undone alone when work fails). */
  #transaction(work: () => void): void {
    const { db } = this.#ctx;
    const nested = db.isTransaction;
    db.exec(nested ? 'SAVEPOINT batch' : 'BEGIN IMMEDIATE');
    try {
      work();
      db.exec(nested ? 'RELEASE batch' : 'COMMIT');
    } catch (error) {
      if (nested) db.exec('ROLLBACK TO batch; RELEASE batch');
      else if (db.isTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }

  #notifyWaiters(): void {
    const failed = this.#state === 'failed';
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!failed && waiter.position > this.#position) return true;
      waiter.resolve();
      return false;
    });
  }
}
