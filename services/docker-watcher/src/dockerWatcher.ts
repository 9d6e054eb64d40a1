import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  type ContainerDescription,
  type ContainerState,
  containerStream,
  type DescriptionSource,
  type DockerContainerEvent,
  decideDockerEvent,
  describesContainer,
  descriptionEventsFor,
  dockerHistoryMissed,
  dockerHistoryStream,
  evolveContainerState,
  historyGapOf,
  needsDescribing,
  type PlannedContainerEvent,
  reconcile,
  timeNanoOfInstant,
  unknownFacts,
} from '@ds01/domain';
import {
  type AppendResult,
  EventIdConflictError,
  type EventStore,
  type NewEvent,
  RepeatedFailureLog,
} from '@ds01/event-store';
import {
  DOCKER_EVENT_RING_SIZE,
  DockerAnswerError,
  type DockerConnection,
  DockerUnreachableError,
  defaultRuntime,
  describeGoneContainer,
  describeOnHost,
  type HostFacts,
  HostUserDirectory,
  inspectContainer,
  listContainersTimed,
  openContainerEventStream,
  readContainer,
  readDockerEventRing,
} from '@ds01/host';
import { WatcherCheckpoint } from './checkpoint.ts';
import { loadKnownContainers } from './knownContainers.ts';

/** The subset of a pino logger the watcher uses. */
export interface WatcherLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface DockerWatcherOptions {
  store: EventStore;
  connection: DockerConnection;
  /** File holding the last handled Docker event time (see WatcherCheckpoint). */
  checkpointPath: string;
  logger: WatcherLogger;
  /** Accounts known from config (group members) that getent may not enumerate. */
  extraUserNames?: readonly string[];
  /** Reconnect backoff: first delay and cap (ms). */
  backoff?: { initialMs: number; maxMs: number };
  /** Host name in event metadata (default: os.hostname()). */
  host?: string;
  /**
   * On a first start (no checkpoint), the replay reaches back to this instant (ISO-8601), at most
   * REPLAY_OVERLAP_NANO before the subscription: ds01d passes the moment its process started, so a
   * container that came and went while it was starting is on the log whole. The log's first event
   * reaches back further when earlier (an earlier ds01d killed before its watcher marked its start).
   * Default: the subscription.
   */
  watchingSince?: string;
  /** Called after each reconciliation: what happened while nobody watched is on the log. */
  onReconciled?: () => void;
}

/** What the watcher has done, for `ds01 status` and (later) metrics. */
export interface DockerWatcherStatus {
  connected: boolean;
  /** Times the connection to the daemon was lost and re-established. */
  reconnects: number;
  lastError: string | null;
  dockerEventsHandled: number;
  eventsAppended: number;
  eventsReconciled: number;
  reconciliations: number;
  checkpoint: string | null;
}

const ACTOR = { kind: 'service' as const, name: 'docker-watcher' };

/** How far before its checkpoint a resumed watcher replays Docker's ring (see #round). */
export const REPLAY_OVERLAP_NANO = 60_000_000_000n;

/**
 * Turns the Docker daemon's container events into domain events, and makes sure nothing escapes it and
 * nothing is recorded twice. Each round (at start, and after every reconnect):
 *
 *   1. subscribe to Docker's live events (held back while 2 runs);
 *   2. replay what happened since the checkpoint, as far as Docker still has it (it keeps only its last
 *      256 events: the rest of what happened while DS01 was away is found in 4), and record it;
 *   3. record the live events that arrived meanwhile;
 *   4. snapshot `docker ps -a` (each container's state with the window it was read in) and record what
 *      the log lacks (marked reconciled) — events arriving meanwhile wait;
 *   5. record the waiting events and follow the live stream, checkpointing after each durable append.
 *
 * Because the subscription is open before the snapshot, a burst of containers at start-up is followed
 * event by event, however long the snapshot takes. Every event is recorded through decideDockerEvent, a
 * pure decision on the container's state as the log tells it, which records a change only when it is not
 * there yet, so replayed, reconciled and live facts may meet in any order and a crash may fall anywhere.
 * When the daemon goes away the watcher logs, waits with exponential backoff, and starts a new round.
 */
export class DockerWatcher {
  readonly #options: DockerWatcherOptions;
  readonly #checkpoint: WatcherCheckpoint;
  /** No checkpoint was found at start(): the first round replays from its beginning, without overlap. */
  #firstStart = false;
  readonly #host: string;
  readonly #users: HostUserDirectory;
  readonly #abort = new AbortController();
  #known = new Map<string, ContainerState>();
  #loop: Promise<void> | undefined;
  #status: DockerWatcherStatus;
  #wake: (() => void) | undefined;
  /** Reconciled containers read at the same time, appended together. */
  readonly #reconciled = new SameTickBatch((entries: readonly ReconciledAppend[]) =>
    this.#appendMany(entries),
  );

  constructor(options: DockerWatcherOptions) {
    this.#options = options;
    this.#checkpoint = new WatcherCheckpoint(options.checkpointPath);
    this.#host = options.host ?? hostname();
    this.#users = new HostUserDirectory({ extraNames: options.extraUserNames ?? [] });
    this.#status = {
      connected: false,
      reconnects: 0,
      lastError: null,
      dockerEventsHandled: 0,
      eventsAppended: 0,
      eventsReconciled: 0,
      reconciliations: 0,
      checkpoint: this.#checkpoint.timeNano ?? null,
    };
  }

  status(): DockerWatcherStatus {
    return { ...this.#status };
  }

  /**
   * Loads what the log knows and starts watching. Resolves after the first reconciliation, or after the
   * first failure to reach the daemon (the watcher keeps retrying in the background).
   */
  async start(): Promise<void> {
    // A first start marks where watching began before anything else, so that a ds01d killed before its
    // first round ends (in its start-up, or with Docker down) resumes from here: what Docker did while
    // it was down is replayed, not left to a reconciliation that never sees containers already gone.
    this.#firstStart = this.#checkpoint.timeNano === undefined;
    if (this.#firstStart) {
      const now = timeNanoOfInstant(new Date(Date.now()).toISOString());
      this.#checkpoint.advance(await this.#firstReplayFrom(now));
      this.#status.checkpoint = this.#checkpoint.timeNano ?? null;
    }
    this.#known = await loadKnownContainers(this.#options.store, this.#host);
    let firstRound!: () => void;
    const ready = new Promise<void>((resolve) => {
      firstRound = resolve;
    });
    this.#loop = this.#run(firstRound);
    await ready;
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    this.#wake?.();
    await this.#loop;
  }

  async #run(firstRound: () => void): Promise<void> {
    const { initialMs, maxMs } = this.#options.backoff ?? { initialMs: 200, maxMs: 10_000 };
    let delay = initialMs;
    let everConnected = false;
    let unreachableAttempts = 0;
    // A full or read-only disk under the log fails every round alike: said once with what to do.
    const failures = new RepeatedFailureLog({
      logger: this.#options.logger,
      what: 'docker watcher failed; restarting it',
      retryEveryMs: maxMs,
    });
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        const facts: HostFacts = {
          users: this.#users,
          defaultRuntime: await defaultRuntime(this.#options.connection),
        };
        if (everConnected) this.#status.reconnects += 1;
        everConnected = true;
        this.#status.connected = true;
        this.#status.lastError = null;
        await this.#round(facts, () => {
          firstRound();
          delay = initialMs;
          unreachableAttempts = 0;
          failures.recovered();
          this.#options.logger.info({ dockerHost: this.#options.connection.host }, 'watching Docker events');
        });
      } catch (error) {
        this.#status.connected = false;
        this.#status.lastError = (error as Error).message;
        firstRound();
        if (signal.aborted) break;
        if (error instanceof DockerUnreachableError) {
          // Said once, then again every 30 attempts (about 5 minutes at the longest backoff): a host
          // without Docker running must not flood the log with one stack per retry.
          unreachableAttempts += 1;
          const level = unreachableAttempts === 1 || unreachableAttempts % 30 === 0 ? 'warn' : 'debug';
          this.#options.logger[level](
            {
              reason: error.message,
              attempts: unreachableAttempts,
              retryInMs: delay,
              dockerHost: this.#options.connection.host,
            },
            'cannot reach the Docker daemon; retrying (what changed meanwhile is reconciled once it answers)',
          );
        } else {
          failures.failed(error, { retryInMs: delay, dockerHost: this.#options.connection.host });
        }
        await this.#sleep(delay);
        delay = Math.min(delay * 2, maxMs);
      }
    }
    this.#status.connected = false;
  }

  /**
   * One round: subscribe, reconcile, follow (see the class comment). Each container's events are recorded
   * in Docker's order, and at once: every domain event is made from the Docker event alone. The one call
   * to the daemon, the inspect that describes a created container, runs beside them, and its
   * ContainerDescribed joins the container's stream when it answers (dockerd answers only once it has
   * finished starting the container). Containers never wait for each other. The checkpoint moves only
   * past events that, with every event before them, are recorded; a failure anywhere ends the round, and
   * the next one reads again from the checkpoint.
   */
  async #round(facts: HostFacts, following: () => void): Promise<void> {
    const round = new AbortController();
    const stopRound = () => round.abort();
    this.#abort.signal.addEventListener('abort', stopRound, { once: true });
    const queue = new ContainerQueues();
    const inFlight = new Set<Promise<void>>();
    // Docker time of each event not yet checkpointed, by its sequence number in this round.
    const timeOf = new Map<number, string>();
    const recorded = new Set<number>();
    let received = 0;
    let checkpointed = 0;
    let failure: { error: unknown } | undefined;
    const fail = (error: unknown) => {
      failure ??= { error };
      round.abort();
    };
    const advance = () => {
      while (recorded.has(checkpointed)) {
        recorded.delete(checkpointed);
        this.#checkpoint.advance(timeOf.get(checkpointed)!);
        timeOf.delete(checkpointed);
        checkpointed += 1;
      }
      this.#status.checkpoint = this.#checkpoint.timeNano ?? null;
    };
    const handle = (event: DockerContainerEvent) => {
      const seq = received++;
      timeOf.set(seq, event.timeNano);
      const correlationId = `docker:${event.id.slice(0, 12)}:${event.timeNano}`;
      // The inspect goes out before the append: dockerd answers in the order it gets them, and a
      // `docker run` asks it to start the container (holding its lock for seconds) right after creating it.
      const description = describesContainer(event) ? this.#describe(event, facts) : undefined;
      const steps = [queue.push(event.id, () => this.#record(event, correlationId, facts))];
      if (description) {
        steps.push(
          description.then((planned) =>
            queue.push(event.id, async () => {
              await this.#append(planned, correlationId);
            }),
          ),
        );
      }
      // advance() writes the checkpoint file: its failure (a full disk) ends the round like an append's.
      const done = Promise.all(steps)
        .then(() => {
          recorded.add(seq);
          advance();
        })
        .catch(fail);
      inFlight.add(done);
      void done.finally(() => inFlight.delete(done));
    };
    try {
      // Live from now on (from this millisecond, so nothing published while subscribing escapes), held
      // back until the replay is recorded: a container's older events come first.
      const subscribedAt = timeNanoOfInstant(new Date(Date.now()).toISOString());
      // The first round of a first start replays from where start() marked the beginning; any later
      // round (or start) resumes from the checkpoint with the overlap below.
      const resumed = !this.#firstStart;
      this.#firstStart = false;
      let heldBack: DockerContainerEvent[] | undefined = [];
      const live = await openContainerEventStream(this.#options.connection, {
        sinceNano: subscribedAt,
        signal: round.signal,
      });
      // Read the stream at once and without pause: dockerd drops events for a subscriber that falls behind.
      const reading = (async () => {
        for await (const event of live) {
          if (heldBack) heldBack.push(event);
          else handle(event);
          if (failure) break;
        }
      })();
      reading.catch(fail);
      // What happened since the checkpoint, as far as Docker still has it, up to a millisecond past the
      // subscription (an event in both is recorded once). Resuming, the replay starts REPLAY_OVERLAP
      // before the checkpoint: dockerd stamps an event before it takes the lock that publishes it, so
      // under load its ring is not quite in time order, and its replay stops at the first event older
      // than `since` it meets going back — one stamped just before the checkpoint but published after
      // it hid everything published before it (whole containers were lost under load 20). What the
      // overlap replays again is already on the log and changes nothing. A first start replays from
      // `watchingSince` (ds01d's start): a container created while ds01d was starting and removed before
      // the reconciliation lists it would otherwise leave only its removal on the log.
      const checkpoint = this.#checkpoint.timeNano!;
      const since = resumed ? checkpoint : subscribedAt;
      const replay = await openContainerEventStream(this.#options.connection, {
        sinceNano: resumed ? `${BigInt(checkpoint) - REPLAY_OVERLAP_NANO}` : checkpoint,
        untilNano: `${BigInt(subscribedAt) + 1_000_000n}`,
        signal: round.signal,
      });
      for await (const event of replay) handle(event);
      await this.#recordHistoryGap(since, subscribedAt, round.signal);
      while (inFlight.size > 0 && !failure) await Promise.all([...inFlight]);
      // A replayed event that could not be recorded ends the round here: reconciling and following now
      // would report the round as recovered (and reset the backoff) while it is failing.
      if (failure) throw failure.error;
      const arrived = heldBack;
      heldBack = undefined;
      for (const event of arrived) handle(event);
      await this.#reconcile(facts, queue);
      this.#options.onReconciled?.();
      following();
      await reading;
    } catch (error) {
      failure ??= { error };
    } finally {
      this.#abort.signal.removeEventListener('abort', stopRound);
      round.abort();
      // Events held for a reconciliation that failed are not recorded: the next round reads them again.
      queue.abandon();
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    }
    if (failure && !this.#abort.signal.aborted) throw failure.error;
  }

  /**
   * Where a first start's replay begins: `watchingSince`, or the first event on the log if that is
   * earlier (a ds01d killed in its start-up, before its watcher marked anything, still began DS01's
   * watch), at most REPLAY_OVERLAP before `now`. Without `watchingSince`, `now`: reconciliation alone.
   */
  async #firstReplayFrom(now: string): Promise<string> {
    const { watchingSince } = this.#options;
    if (watchingSince === undefined) return now;
    const latest = BigInt(now);
    const earliest = latest - REPLAY_OVERLAP_NANO;
    // BigInt nanoseconds: Math.min does not take them.
    let from = latest;
    for (const instant of [watchingSince, await this.#firstRecordedAt()]) {
      if (instant === undefined) continue;
      const nano = BigInt(timeNanoOfInstant(instant));
      if (nano < from) from = nano;
    }
    return `${from < earliest ? earliest : from}`;
  }

  /** When the log's first event was recorded; undefined on an empty log. */
  async #firstRecordedAt(): Promise<string | undefined> {
    for await (const event of this.#options.store.readAll({ maxCount: 1, revalidate: false })) {
      return event.metadata.recordedAt;
    }
    return undefined;
  }

  /**
   * When more happened while the watcher was away than dockerd keeps (its last 256 events, of every
   * type), the replay began later than the checkpoint: the log says so (DockerHistoryMissed) rather than
   * looking complete. The containers that exist are reconciled next; those created and removed in the gap
   * are beyond anyone's reach.
   */
  async #recordHistoryGap(sinceNano: string, untilNano: string, signal: AbortSignal): Promise<void> {
    const ring = await readDockerEventRing(this.#options.connection, untilNano, signal);
    const gap = historyGapOf(ring, sinceNano, DOCKER_EVENT_RING_SIZE);
    if (!gap) return;
    const { eventId, event } = dockerHistoryMissed(this.#host, gap, DOCKER_EVENT_RING_SIZE);
    await this.#options.store.append(dockerHistoryStream(this.#host), [
      {
        type: event.type,
        data: event.data,
        metadata: {
          eventId,
          occurredAt: event.data.until,
          actor: ACTOR,
          host: this.#host,
          correlationId: `docker-history:${gap.fromNano}`,
          causationId: null,
        },
      },
    ]);
    this.#options.logger.warn(
      { from: event.data.from, until: event.data.until, ringSize: DOCKER_EVENT_RING_SIZE },
      `Docker no longer holds what happened between ${event.data.from} and ${event.data.until} ` +
        `(it keeps its last ${DOCKER_EVENT_RING_SIZE} events): containers that came and went then are not on the log; ` +
        'those that exist are reconciled now',
    );
  }

  /**
   * Compares the daemon's containers with the log and records what the log lacks. Container by
   * container: its events that arrived before its read are recorded first (they are part of what it
   * reads); those arriving while it is read and recorded wait (see decideDockerEvent for why either order
   * is right). Containers are read 16 at a time and never wait for each other.
   */
  async #reconcile(facts: HostFacts, queue: ContainerQueues): Promise<void> {
    const { ids, window: listed } = await listContainersTimed(this.#options.connection);
    const present = new Set(ids);
    // Known, not removed and not listed: removed while nobody watched, or while the list was answered.
    const absent = [...this.#known.values()].filter(
      (state) => state.status !== 'removed' && !present.has(state.containerId),
    );
    const waits = absent.map((state) => queue.hold(state.containerId));
    const correlationId = `reconcile:${randomUUID()}`;
    let reconciled = 0;
    let next = 0;
    const readOne = async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        await queue.hold(id);
        reconciled += await this.#reconcileOne(id, facts, correlationId);
        queue.release(id);
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, ids.length) }, readOne));

    await Promise.all(waits);
    // One the list lacks but with Docker events since the list began was removed after it began: its
    // removal and what came before are on the live stream, and must not be inferred.
    const changed = await this.#changedSince(listed.from);
    const goneDescriptions = new Map(
      await Promise.all(
        absent
          .filter((state) => state.description === null)
          .map(async (state) => {
            const attributes = { ...state.labels, image: state.image ?? '', name: state.name };
            const description = await describeGoneContainer(state.containerId, attributes, facts);
            return [state.containerId, description] as const;
          }),
      ),
    );
    const gone = reconcile({
      known: new Map(absent.map((state) => [state.containerId, this.#known.get(state.containerId)!])),
      actual: [],
      goneDescriptions,
      listed,
      vanished: changed,
    });
    const goneAppends = [...Map.groupBy(gone, (p) => p.event.data.containerId).values()].map((events) => ({
      events,
      correlationId,
    }));
    for (const added of await this.#appendMany(goneAppends)) reconciled += added;
    for (const state of absent) queue.release(state.containerId);
    this.#status.eventsReconciled += reconciled;
    this.#status.reconciliations += 1;
    this.#options.logger.info(
      { containers: ids.length, reconciledEvents: reconciled },
      'reconciled Docker containers with the log',
    );
  }

  /**
   * The containers with Docker events since `instant`, from the daemon's ring of recent events. A
   * container the list lacks may have been removed while it was answered; if so, its removal is on the
   * live stream and must not be inferred (what it did before its removal would be lost).
   */
  async #changedSince(instant: string): Promise<Set<string>> {
    const changed = new Set<string>();
    const recent = await openContainerEventStream(this.#options.connection, {
      sinceNano: timeNanoOfInstant(instant),
      untilNano: timeNanoOfInstant(new Date(Date.now() + 1).toISOString()),
      signal: this.#abort.signal,
    });
    for await (const event of recent) changed.add(event.id);
    return changed;
  }

  /**
   * Records one Docker event's domain events, as decideDockerEvent decides on the container's state (the
   * caller moves the checkpoint). Its one open case is settled by reading the container again.
   */
  async #record(event: DockerContainerEvent, correlationId: string, facts: HostFacts): Promise<void> {
    this.#status.dockerEventsHandled += 1;
    const decision = decideDockerEvent(this.#known.get(event.id), event);
    if (decision.kind === 'record') {
      if (decision.events.length > 0) await this.#append(decision.events, correlationId);
      return;
    }
    this.#status.eventsReconciled += await this.#reconcileOne(event.id, facts, correlationId);
  }

  /**
   * Reconciles one container with a fresh read of it; returns how many events that added. Every event
   * of it that arrived so far is older than the read, so part of what it reads (decideDockerEvent drops
   * them from now on). A container gone when read was removed while it was read: its events say so.
   */
  async #reconcileOne(containerId: string, facts: HostFacts, correlationId: string): Promise<number> {
    const { inspect, window } = await readContainer(this.#options.connection, containerId);
    const state = this.#known.get(containerId);
    const known = new Map(state ? [[containerId, state]] : []);
    const actual = inspect
      ? [
          needsDescribing(state)
            ? { inspect, window, description: await describeOnHost(inspect, facts) }
            : { inspect, window },
        ]
      : [];
    const planned = reconcile({ known, actual, listed: window, vanished: new Set([containerId]) });
    return this.#reconciled.add({ events: planned, correlationId });
  }

  /**
   * DS01's description of a created container: from inspect, or from the event if it is already gone.
   * An inspect answer DS01 cannot read is logged and the container described from its event too: one
   * odd container must not stop the watcher (retrying would meet the same answer forever).
   */
  async #describe(create: DockerContainerEvent, facts: HostFacts): Promise<PlannedContainerEvent[]> {
    let inspect: Awaited<ReturnType<typeof inspectContainer>>;
    try {
      inspect = await inspectContainer(this.#options.connection, create.id);
    } catch (error) {
      if (!(error instanceof DockerAnswerError)) throw error;
      this.#options.logger.warn(
        { containerId: create.id, field: error.field, reason: error.message },
        'cannot read the inspect answer of a new container; describing it from its Docker event',
      );
      inspect = undefined;
    }
    const [description, from]: [ContainerDescription, DescriptionSource] = inspect
      ? [await describeOnHost(inspect, facts), 'inspect']
      : [await describeGoneContainer(create.id, create.attributes, facts), 'event-attributes'];
    return descriptionEventsFor(create, description, from);
  }

  /** Appends one container's events; returns how many are new. Already-recorded facts are skipped. */
  async #append(all: readonly PlannedContainerEvent[], correlationId: string): Promise<number> {
    const planned = this.#unknown(all);
    if (planned.length === 0) return 0;
    const stream = containerStream(planned[0]!.event.data.containerId);
    const before = await this.#options.store.streamRevision(stream);
    let applied: readonly PlannedContainerEvent[] = planned;
    try {
      await this.#options.store.append(
        stream,
        planned.map((p) => this.#toNew(p, correlationId)),
      );
    } catch (error) {
      if (!(error instanceof EventIdConflictError)) throw error;
      // The same Docker fact, described differently now (re-read after the container changed or went):
      // what the log has is the record of it. Append the others one by one.
      applied = [];
      for (const p of planned) {
        try {
          await this.#options.store.append(stream, [this.#toNew(p, correlationId)]);
          applied = [...applied, p];
        } catch (inner) {
          if (!(inner instanceof EventIdConflictError)) throw inner;
          this.#options.logger.debug({ eventId: p.eventId, type: p.event.type }, 'already recorded');
        }
      }
    }
    const after = await this.#options.store.streamRevision(stream);
    return this.#learn(applied, revisionsAdded(before, after));
  }

  /**
   * Appends several containers' events in one transaction (appendMany: one commit, not one per
   * container); returns how many are new for each. Reconciliation reads 16 containers at a time, and a
   * host with a thousand containers would otherwise commit a thousand times at start. A fact the log has
   * under another description (EventIdConflictError) refuses the whole batch: then each container's
   * events go through #append, which sorts that out.
   */
  async #appendMany(entries: readonly ReconciledAppend[]): Promise<number[]> {
    const planned = entries.map(({ events }) => this.#unknown(events));
    const writing = planned.flatMap((events, i) => (events.length > 0 ? [i] : []));
    const streams = writing.map((i) => containerStream(planned[i]![0]!.event.data.containerId));
    if (writing.length < 2 || new Set(streams).size < streams.length) {
      const counts: number[] = [];
      for (const { events, correlationId } of entries) counts.push(await this.#append(events, correlationId));
      return counts;
    }
    const before = await Promise.all(streams.map((stream) => this.#options.store.streamRevision(stream)));
    let results: AppendResult[];
    try {
      results = await this.#options.store.appendMany(
        writing.map((i, k) => ({
          streamId: streams[k]!,
          events: planned[i]!.map((p) => this.#toNew(p, entries[i]!.correlationId)),
        })),
      );
    } catch (error) {
      if (!(error instanceof EventIdConflictError)) throw error;
      const counts: number[] = [];
      for (const { events, correlationId } of entries) counts.push(await this.#append(events, correlationId));
      return counts;
    }
    const counts = entries.map(() => 0);
    writing.forEach((i, k) => {
      counts[i] = this.#learn(planned[i]!, revisionsAdded(before[k]!, results[k]!.nextExpectedRevision));
    });
    return counts;
  }

  /** The facts of `all` the log does not have yet (the others are logged at debug level). */
  #unknown(all: readonly PlannedContainerEvent[]): PlannedContainerEvent[] {
    const planned = unknownFacts(this.#known.get(all[0]?.event.data.containerId ?? ''), all);
    for (const p of all.filter((p) => !planned.includes(p))) {
      this.#options.logger.debug(
        { containerId: p.event.data.containerId, type: p.event.type },
        'already in the log',
      );
    }
    return planned;
  }

  #toNew(p: PlannedContainerEvent, correlationId: string): NewEvent {
    return {
      type: p.event.type,
      data: p.event.data,
      metadata: {
        eventId: p.eventId,
        occurredAt: p.occurredAt,
        actor: ACTOR,
        host: this.#host,
        correlationId,
        causationId: null,
      },
    };
  }

  /** What the log now has of these containers, when the append added events; returns how many. */
  #learn(applied: readonly PlannedContainerEvent[], added: number): number {
    if (added > 0) {
      for (const p of applied) {
        const id = p.event.data.containerId;
        this.#known.set(id, evolveContainerState(this.#known.get(id), p.event, p.occurredAt));
      }
    }
    this.#status.eventsAppended += Math.max(added, 0);
    return Math.max(added, 0);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

class RoundAbandonedError extends Error {
  override readonly name = 'RoundAbandonedError';
}

/**
 * Each container's appends, one after another in the order they were pushed; containers never wait for
 * each other. While a container is held (reconciliation is reading and recording it), its new steps
 * wait for its release. Tails are dropped once they drain: a round lasts months.
 */
class ContainerQueues {
  readonly #tails = new Map<string, Promise<void>>();
  readonly #gates = new Map<string, { promise: Promise<void>; open: () => void; abandon: () => void }>();

  push(containerId: string, step: () => Promise<void>): Promise<void> {
    const gate = this.#gates.get(containerId)?.promise;
    const run = gate ? () => gate.then(step) : step;
    const next = (this.#tails.get(containerId) ?? Promise.resolve()).then(run);
    this.#tails.set(containerId, next);
    const drop = () => {
      if (this.#tails.get(containerId) === next) this.#tails.delete(containerId);
    };
    next.then(drop, drop);
    return next;
  }

  /** From now on the container's new steps wait for release(); resolves once its earlier steps ran. */
  hold(containerId: string): Promise<void> {
    const before = (this.#tails.get(containerId) ?? Promise.resolve()).then(
      () => undefined,
      () => undefined,
    );
    if (!this.#gates.has(containerId)) {
      const { promise, resolve, reject } = Promise.withResolvers<void>();
      promise.catch(() => undefined);
      this.#gates.set(containerId, {
        promise,
        open: () => resolve(),
        abandon: () => reject(new RoundAbandonedError('the round ended before its reconciliation')),
      });
    }
    return before;
  }

  release(containerId: string): void {
    this.#gates.get(containerId)?.open();
    this.#gates.delete(containerId);
  }

  /** The held steps fail instead of running. */
  abandon(): void {
    for (const gate of this.#gates.values()) gate.abandon();
    this.#gates.clear();
  }
}

/** Events a stream gained between two of its revisions. */
function revisionsAdded(before: number | 'no_stream', after: number | 'no_stream'): number {
  return (after === 'no_stream' ? -1 : after) - (before === 'no_stream' ? -1 : before);
}

/** One container's reconciled events, waiting to be appended with the others read at the same time. */
interface ReconciledAppend {
  events: readonly PlannedContainerEvent[];
  correlationId: string;
}

/**
 * Collects what is asked for in one turn of the event loop and hands it to `run` as one batch: the
 * containers reconciliation has read at the same time are appended together.
 */
class SameTickBatch<Item, Result> {
  readonly #run: (items: readonly Item[]) => Promise<Result[]>;
  #pending: { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = [];

  constructor(run: (items: readonly Item[]) => Promise<Result[]>) {
    this.#run = run;
  }

  add(item: Item): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (this.#pending.length === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const batch = this.#pending;
    this.#pending = [];
    this.#run(batch.map((entry) => entry.item)).then(
      (results) => {
        for (const [i, entry] of batch.entries()) entry.resolve(results[i]!);
      },
      (error: unknown) => {
        for (const entry of batch) entry.reject(error);
      },
    );
  }
}
