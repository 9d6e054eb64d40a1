import { randomUUID } from 'node:crypto';
import type { Decider, DomainEvent } from './decider.ts';
import type { Actor, AppendResult, NewEvent } from './envelope.ts';
import { WrongExpectedRevisionError } from './errors.ts';
import { newEventId } from './eventId.ts';
import type { EventStore } from './eventStore.ts';

/** Who and what a command comes from; stamped on every event it produces. */
export interface CommandContext {
  actor: Actor;
  host: string;
  /** When the command was issued: becomes occurredAt of its events. */
  now: Date;
  correlationId?: string;
  causationId?: string | null;
}

export interface HandleResult<Event, State> {
  events: Event[];
  state: State;
  /** Absent when the decision produced no events (nothing was appended). */
  appended?: AppendResult;
  /** How many times the decision was retried after another writer got there first. */
  retries: number;
}

interface CachedState<State> {
  state: State;
  revision: number | 'no_stream';
  /** Events after the stream's last snapshot (all of them when it has none). */
  sinceSnapshot: number;
}

/**
 * Snapshots of a long stream's state, appended with a decision every `every` events: a process that
 * has not read the stream yet reads back to the last snapshot instead of from the start.
 * `take` builds the snapshot event of a state (after the event at `revision`); the decider's
 * evolve must read that event as "the state is this".
 */
export interface SnapshotPolicy<Event, State> {
  type: string;
  every: number;
  take(state: State, revision: number): Event;
}

/**
 * Runs commands against one decider: load the stream's state, decide, append with the expected
 * revision, and on a conflict load what the other writer appended and decide again. State is kept
 * in memory per stream and brought up to date by reading only the newer events, so a long stream
 * (a GPU pool with years of allocations) is not re-read on every command.
 */
export class CommandHandler<Command, Event extends DomainEvent, State> {
  readonly #store: EventStore;
  readonly #decider: Decider<Command, Event, State>;
  readonly #maxRetries: number;
  readonly #snapshots: SnapshotPolicy<Event, State> | undefined;
  readonly #cache = new Map<string, CachedState<State>>();

  constructor(
    store: EventStore,
    decider: Decider<Command, Event, State>,
    options: { maxRetries?: number; snapshots?: SnapshotPolicy<Event, State> } = {},
  ) {
    this.#store = store;
    this.#decider = decider;
    this.#maxRetries = options.maxRetries ?? 50;
    this.#snapshots = options.snapshots;
  }

  /** The stream's current state, read from the log (and cached). */
  async load(streamId: string): Promise<CachedState<State>> {
    const cached = this.#cache.get(streamId) ?? (await this.#fromLastSnapshot(streamId));
    let { state, revision, sinceSnapshot } = cached;
    const fromRevision = revision === 'no_stream' ? 0 : revision + 1;
    for await (const event of this.#store.readStream(streamId, { fromRevision })) {
      state = this.#decider.evolve(state, { type: event.type, data: event.data } as Event);
      revision = event.revision;
      sinceSnapshot = event.type === this.#snapshots?.type ? 0 : sinceSnapshot + 1;
    }
    const fresh = { state, revision, sinceSnapshot };
    this.#cache.set(streamId, fresh);
    return fresh;
  }

  /**
   * A first read: back to the last snapshot (or the start), folded forwards from there. Read in
   * chunks of one snapshot interval, so that a store reading pages ahead decodes no more than that.
   */
  async #fromLastSnapshot(streamId: string): Promise<CachedState<State>> {
    const initial = { state: this.#decider.initialState(), revision: 'no_stream' as const, sinceSnapshot: 0 };
    if (!this.#snapshots) return initial;
    const { type, every } = this.#snapshots;
    const tail: Array<{ type: string; data: unknown; revision: number }> = [];
    let found = false;
    for (let from: number | undefined; !found; ) {
      const chunk: typeof tail = [];
      for await (const event of this.#store.readStream(streamId, {
        direction: 'backwards',
        maxCount: every + 1,
        ...(from === undefined ? {} : { fromRevision: from }),
      })) {
        chunk.push(event);
        if (event.type === type) break;
      }
      tail.push(...chunk);
      found = chunk.at(-1)?.type === type;
      if (found || chunk.length < every + 1 || chunk.at(-1)!.revision === 0) break;
      from = chunk.at(-1)!.revision - 1;
    }
    if (tail.length === 0) return initial;
    let state = initial.state;
    for (let i = tail.length - 1; i >= 0; i--) {
      state = this.#decider.evolve(state, { type: tail[i]!.type, data: tail[i]!.data } as Event);
    }
    return { state, revision: tail[0]!.revision, sinceSnapshot: found ? tail.length - 1 : tail.length };
  }

  async handle(
    streamId: string,
    command: Command,
    context: CommandContext,
  ): Promise<HandleResult<Event, State>> {
    const correlationId = context.correlationId ?? randomUUID();
    for (let attempt = 0; ; attempt++) {
      const { state, revision, sinceSnapshot } = await this.load(streamId);
      const events = this.#decider.decide(command, state);
      if (events.length === 0) return { events, state, retries: attempt };
      const newState = events.reduce((s, e) => this.#decider.evolve(s, e), state);
      const snapshot = this.#snapshotAfter(events.length, revision, sinceSnapshot, newState);
      const toAppend: NewEvent[] = [...events, ...snapshot].map((event) => ({
        type: event.type,
        data: event.data,
        metadata: {
          eventId: newEventId(context.now.getTime()),
          occurredAt: context.now.toISOString(),
          actor: context.actor,
          host: context.host,
          correlationId,
          causationId: context.causationId ?? null,
        },
      }));
      try {
        const appended = await this.#store.append(streamId, toAppend, { expectedRevision: revision });
        this.#cache.set(streamId, {
          state: newState,
          revision: appended.nextExpectedRevision,
          sinceSnapshot: snapshot.length > 0 ? 0 : sinceSnapshot + events.length,
        });
        return { events, state: newState, appended, retries: attempt };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError) || attempt >= this.#maxRetries) throw error;
        // Another writer appended first: the next load() reads its events and we decide again.
      }
    }
  }

  /** The snapshot to append after these events, when they make the stream's tail long enough. */
  #snapshotAfter(count: number, revision: number | 'no_stream', since: number, state: State): Event[] {
    if (!this.#snapshots || since + count < this.#snapshots.every) return [];
    const last = (revision === 'no_stream' ? -1 : revision) + count;
    return [this.#snapshots.take(state, last)];
  }
}
