import {
  type ContainerEvent,
  type ContainerState,
  type DescribeFacts,
  decideDockerEvent,
  describeContainer,
  evolveContainerState,
  needsDescribing,
  type PlannedContainerEvent,
  reconcile,
  unknownFacts,
  userDirectoryOf,
} from '@ds01/domain';
import {
  BASE_MS,
  type ContainerHistory,
  clockCeil,
  clockFloor,
  eventOf,
  inspectAt,
  type Operation,
  readPoint,
  stateAt,
  timeNano,
} from './dockerModel.ts';

/**
 * The Docker watcher's protocol (services/docker-watcher/src/dockerWatcher.ts) run against the model
 * dockerd, with the domain's real decisions: per round, subscribe (replaying from the checkpoint, as far
 * as Docker's ring of recent events reaches), record what arrived before the snapshot, snapshot and
 * reconcile, then record the rest. Containers are recorded in any interleaving that keeps each one's
 * order (the watcher does not make containers wait for each other), and the checkpoint follows the
 * longest prefix of the round's events that is recorded. A crash may come after any append: what is on
 * the log and the checkpoint stay, everything else is lost.
 */

/** As the watcher's (services/docker-watcher): a resumed replay starts this long before the checkpoint. */
const REPLAY_OVERLAP_NANO = 60_000_000_000n;

/** Docker keeps this many recent events for `since` (256 in dockerd; small here to lose some). */
export const RING = 8;

export interface RoundPlan {
  /** µs after the previous round ended (its crash) until it subscribes. */
  downtime: number;
  /** µs between subscribing and listing the containers. */
  listDelay: number;
  /** Delivery delay of each event after it was published or the previous one arrived (µs), cycled. */
  delays: number[];
  /** How long each inspect takes (µs), cycled. */
  inspectTimes: number[];
  /** Priorities that interleave containers (cycled); the order of one container's events is kept. */
  interleave: number[];
  /** Appends after which it crashes; undefined: it runs to the end of the history. */
  crashAfter: number | undefined;
}

export interface StoredEvent extends PlannedContainerEvent {
  position: number;
}

const facts: DescribeFacts = { users: userDirectoryOf([]), pathOwners: new Map(), defaultRuntime: 'runc' };

export class ModelLog {
  readonly events: StoredEvent[] = [];
  readonly #ids = new Set<string>();
  readonly #known = new Map<string, ContainerState>();

  /** Every container's state folded from the log (what loadKnownContainers gives the watcher). */
  known(): Map<string, ContainerState> {
    return new Map(this.#known);
  }

  state(containerId: string): ContainerState | undefined {
    return this.#known.get(containerId);
  }

  /** What the watcher's #append does: only facts the log does not tell, and an id only once. */
  append(planned: readonly PlannedContainerEvent[]): number {
    if (planned.length === 0) return 0;
    const id = planned[0]!.event.data.containerId;
    let state = this.#known.get(id);
    let added = 0;
    for (const p of unknownFacts(state, planned)) {
      if (this.#ids.has(p.eventId)) continue;
      this.#ids.add(p.eventId);
      this.events.push({ ...p, position: this.events.length });
      state = evolveContainerState(state, p.event, p.occurredAt);
      this.#known.set(id, state);
      added += 1;
    }
    return added;
  }

  streamOf(containerId: string): ContainerEvent[] {
    return this.events.filter((e) => e.event.data.containerId === containerId).map((e) => e.event);
  }
}

class Crash extends Error {}

const nanoOf = (instant: string) => `${BigInt(Date.parse(instant)) * 1_000_000n}`;

export interface RoundOutcome {
  /** When it crashed (µs), or undefined when it ran to the end. */
  crashedAt: number | undefined;
  /** Events Docker no longer had to replay (older than its ring) and that were not on the log. */
  lostToRing: number;
  /** Events that arrived after their container's state was read past them (recorded as what was read). */
  lateForSnapshot: Set<string>;
}

export class ModelWatcher {
  readonly log = new ModelLog();
  checkpoint: string | undefined;
  readonly #histories: ContainerHistory[];
  readonly #all: Operation[];

  /** How long before its first subscription ds01d started (µs): a first start replays from there. */
  readonly #startedBefore: number;

  constructor(histories: ContainerHistory[], startedBefore = 0) {
    this.#histories = histories;
    this.#startedBefore = startedBefore;
    this.#all = histories.flatMap((h) => h.operations).sort((a, b) => a.t - b.t);
  }

  #history(id: string): ContainerHistory {
    return this.#histories.find((h) => h.containerId === id)!;
  }

  round(startAt: number, plan: RoundPlan): RoundOutcome {
    const L = startAt;
    let appends = 0;
    let now = L;
    const outcome: RoundOutcome = { crashedAt: undefined, lostToRing: 0, lateForSnapshot: new Set() };
    const appendAndMaybeCrash = (planned: readonly PlannedContainerEvent[]) => {
      if (this.log.append(planned) === 0) return;
      appends += 1;
      if (plan.crashAfter !== undefined && appends >= plan.crashAfter) throw new Crash();
    };

    // 1. subscribe live from this millisecond. Without a checkpoint, the moment of subscribing is one.
    const subscribedAt = nanoOf(clockFloor(L));
    const resumed = this.checkpoint !== undefined;
    if (this.checkpoint === undefined) this.checkpoint = subscribedAt;
    const liveFrom = BigInt(subscribedAt);
    // 2. the replay since the checkpoint (less the watcher's overlap when resuming: what it replays
    // again must change nothing), from Docker's ring of recent events, up to a ms past subscribing.
    const replayUntil = liveFrom + 1_000_000n;
    // A first start replays from ds01d's own start (the watcher's watchingSince), at most the overlap.
    const firstLookback = BigInt(this.#startedBefore) * 1000n;
    const since =
      BigInt(this.checkpoint) -
      (resumed
        ? REPLAY_OVERLAP_NANO
        : firstLookback < REPLAY_OVERLAP_NANO
          ? firstLookback
          : REPLAY_OVERLAP_NANO);
    const inRing = this.#all.filter((op) => op.t < L).slice(-RING);
    const wanted = this.#all.filter(
      (op) => BigInt(timeNano(op.t)) >= since && BigInt(timeNano(op.t)) <= replayUntil && op.t < L,
    );
    outcome.lostToRing = wanted.filter((op) => !inRing.includes(op)).length;
    const replayed = wanted.filter((op) => inRing.includes(op));
    const live = this.#all.filter((op) => BigInt(timeNano(op.t)) >= liveFrom);
    let arrival = L;
    const timed = (ops: Operation[], offset: number) =>
      ops.map((op, i) => {
        arrival = Math.max(arrival, op.t) + plan.delays[(offset + i) % plan.delays.length]!;
        return { op, at: arrival, seq: offset + i };
      });
    const replayArrivals = timed(replayed, 0);
    const replayEnd = arrival;
    arrival = L;
    const liveArrivals = timed(live, replayed.length);
    const arrivals = [...replayArrivals, ...liveArrivals];
    const recorded = new Set<number>();
    let prefix = 0;
    const advance = () => {
      while (recorded.has(prefix)) {
        const t = timeNano(arrivals[prefix]!.op.t);
        if (this.checkpoint === undefined || BigInt(t) > BigInt(this.checkpoint)) this.checkpoint = t;
        prefix += 1;
      }
    };
    /** An inspect of one container sent now, answered after `duration` (later if its lock is held). */
    const read = (history: ContainerHistory, duration: number) => {
      const from = now;
      const x = readPoint(history, from + Math.floor(duration / 2));
      const until = Math.max(from + duration, x) + 1;
      now = until;
      return {
        inspect: inspectAt(history, x),
        from,
        x,
        window: { from: clockFloor(from), until: clockCeil(until) },
      };
    };
    let readCount = 0;
    /** Whether a change that the read at x saw had its event arrive only after the read began. */
    const lateFor = (id: string, readFrom: number, x: number) => {
      const arrivedAfter = arrivals.filter((a) => a.op.containerId === id && a.at >= readFrom);
      if (arrivedAfter.some((a) => a.op.w <= x)) outcome.lateForSnapshot.add(id);
    };
    const record = (item: (typeof arrivals)[number]) => {
      now = Math.max(now, item.at);
      const history = this.#history(item.op.containerId);
      const event = eventOf(item.op, history.name);
      const state = this.log.state(event.id);
      const decision = decideDockerEvent(state, event);
      if (decision.kind === 'record') {
        appendAndMaybeCrash(decision.events);
      } else {
        // The watcher's #reconcileOne.
        const readFrom = now;
        const { inspect, window, x } = read(
          history,
          plan.inspectTimes[readCount++ % plan.inspectTimes.length]!,
        );
        lateFor(history.containerId, readFrom, x);
        const known = new Map(state ? [[event.id, state]] : []);
        const actual = inspect
          ? [
              needsDescribing(state)
                ? { inspect, window, description: describeContainer(inspect, facts) }
                : { inspect, window },
            ]
          : [];
        appendAndMaybeCrash(reconcile({ known, actual, listed: window }));
      }
      recorded.add(item.seq);
      advance();
    };
    const interleaved = (items: typeof arrivals) => {
      const queues = Map.groupBy(items, (item) => item.op.containerId);
      const order: typeof arrivals = [];
      let turn = 0;
      while (queues.size > 0) {
        const ids = [...queues.keys()];
        const id = ids[plan.interleave[turn++ % plan.interleave.length]! % ids.length]!;
        const queue = queues.get(id)!;
        order.push(queue.shift()!);
        if (queue.length === 0) queues.delete(id);
      }
      return order;
    };

    try {
      for (const item of interleaved(replayArrivals)) record(item);
      now = Math.max(now, replayEnd);
      // 3. list, then read each listed container (one after another here; the watcher reads 16 at a
      // time, which only overlaps the windows). A container's events that arrived before its read are
      // recorded first; the rest wait for its reconciliation. Known containers the list lacks are cut at
      // the list.
      const listFrom = Math.max(now, L + plan.listDelay);
      const listUntil = listFrom + 500;
      const listed = this.#histories.filter((h) => stateAt(h, listFrom + 250) !== undefined);
      const known = this.log.known();
      const absent = [...known.values()].filter(
        (state) => state.status !== 'removed' && !listed.some((h) => h.containerId === state.containerId),
      );
      const cut = new Map<string, number>();
      let cursor = listUntil;
      const reads = listed.map((history) => {
        const duration = plan.inspectTimes[readCount++ % plan.inspectTimes.length]!;
        const from = cursor;
        cursor = Math.max(from + duration, readPoint(history, from + Math.floor(duration / 2))) + 1;
        cut.set(history.containerId, from);
        return { history, from, duration };
      });
      for (const state of absent) cut.set(state.containerId, listFrom);
      const before = (a: (typeof arrivals)[number]) => a.at < (cut.get(a.op.containerId) ?? -Infinity);
      for (const item of interleaved(liveArrivals.filter(before))) record(item);

      for (const { history, from, duration } of reads) {
        now = Math.max(now, from);
        const state = this.log.state(history.containerId);
        const { inspect, window, x } = read(history, duration);
        lateFor(history.containerId, from, x);
        const actual = inspect ? [{ inspect, window, description: describeContainer(inspect, facts) }] : [];
        const known1 = new Map(state ? [[history.containerId, state]] : []);
        appendAndMaybeCrash(
          reconcile({ known: known1, actual, listed: window, vanished: new Set([history.containerId]) }),
        );
      }
      // The watcher asks Docker's ring which containers had events since the list began: one the list
      // lacks but that changed meanwhile was removed after the list began, and its events are coming.
      now = Math.max(now, cursor);
      const changed = new Set<string>();
      const since = BigInt(nanoOf(clockFloor(listFrom)));
      for (const op of this.#all.filter((o) => o.t <= now).slice(-RING)) {
        if (BigInt(timeNano(op.t)) >= since) changed.add(op.containerId);
      }
      for (const state of absent) lateFor(state.containerId, listFrom, listFrom + 250);
      const gone = reconcile({
        known: new Map(absent.map((state) => [state.containerId, state])),
        actual: [],
        listed: { from: clockFloor(listFrom), until: clockCeil(listUntil) },
        vanished: changed,
      });
      for (const events of Map.groupBy(gone, (p) => p.event.data.containerId).values()) {
        appendAndMaybeCrash(events);
      }

      // 4. what arrived meanwhile, and live.
      for (const item of interleaved(liveArrivals.filter((a) => !before(a)))) record(item);
    } catch (error) {
      if (!(error instanceof Crash)) throw error;
      outcome.crashedAt = now;
    }
    return outcome;
  }
}

export { BASE_MS };
