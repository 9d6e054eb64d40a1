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
  readonly #cache = new Map<string, CachedState<State>>();

  constructor(
    store: EventStore,
    decider: Decider<Command, Event, State>,
    options: { maxRetries?: number } = {},
  ) {
    this.#store = store;
    this.#decider = decider;
    this.#maxRetries = options.maxRetries ?? 50;
  }

  /** The stream's current state, read from the log (and cached). */
  async load(streamId: string): Promise<CachedState<State>> {
    const cached = this.#cache.get(streamId) ?? {
      state: this.#decider.initialState(),
      revision: 'no_stream' as const,
    };
    let { state, revision } = cached;
    const fromRevision = revision === 'no_stream' ? 0 : revision + 1;
    for await (const event of this.#store.readStream(streamId, { fromRevision })) {
      state = this.#decider.evolve(state, { type: event.type, data: event.data } as Event);
      revision = event.revision;
    }
    const fresh = { state, revision };
    this.#cache.set(streamId, fresh);
    return fresh;
  }

  async handle(
    streamId: string,
    command: Command,
    context: CommandContext,
  ): Promise<HandleResult<Event, State>> {
    const correlationId = context.correlationId ?? randomUUID();
    for (let attempt = 0; ; attempt++) {
      const { state, revision } = await this.load(streamId);
      const events = this.#decider.decide(command, state);
      if (events.length === 0) return { events, state, retries: attempt };
      const toAppend: NewEvent[] = events.map((event) => ({
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
        const newState = events.reduce((s, e) => this.#decider.evolve(s, e), state);
        this.#cache.set(streamId, { state: newState, revision: appended.nextExpectedRevision });
        return { events, state: newState, appended, retries: attempt };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError) || attempt >= this.#maxRetries) throw error;
        // Another writer appended first: the next load() reads its events and we decide again.
      }
    }
  }
}
