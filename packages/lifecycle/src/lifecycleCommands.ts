import {
  evolveLifecycle,
  initialLifecycleState,
  type LifecycleCommand,
  type LifecycleDecision,
  type LifecycleEvent,
  type LifecycleState,
  lifecycleDecider,
  lifecycleStream,
} from '@ds01/domain';
import {
  type Actor,
  type AppendResult,
  type EventStore,
  type NewEvent,
  newEventId,
  WrongExpectedRevisionError,
} from '@ds01/event-store';

/** A container's lifecycle state and the revision of its lifecycle stream folded into it (-1: none). */
export interface LoadedLifecycle {
  state: LifecycleState;
  revision: number;
}

/** Where the state comes from: the lifecycle read model (ds01d's connection, or the CLI's). */
export interface LifecycleStateSource {
  load(containerId: string): LoadedLifecycle | undefined;
}

export interface LifecycleCommandContext {
  actor: Actor;
  host: string;
  causationId?: string | null;
  correlationId?: string;
}

export interface LifecycleResult {
  events: LifecycleDecision[];
  state: LifecycleState;
  appended?: AppendResult;
}

const MAX_RETRIES = 20;

/**
 * A container's lifecycle state from the read model, brought up to date with what its lifecycle
 * stream has past the model's revision (a decision another writer just appended).
 */
export async function loadLifecycle(
  store: EventStore,
  source: LifecycleStateSource,
  containerId: string,
  from: LoadedLifecycle = source.load(containerId) ?? {
    state: initialLifecycleState(containerId),
    revision: -1,
  },
): Promise<LoadedLifecycle> {
  let { state, revision } = from;
  for await (const event of store.readStream(lifecycleStream(containerId), { fromRevision: revision + 1 })) {
    state = evolveLifecycle(
      state,
      { type: event.type, data: event.data } as LifecycleEvent,
      event.metadata.occurredAt,
    );
    revision = event.revision;
  }
  return { state, revision };
}

/**
 * Decides a lifecycle command on a container's state and appends the decision to its
 * `lifecycle-<id>` stream with the expected revision. The read model may be behind the stream (a
 * decision just appended by another writer): what the stream has past the model's revision is read
 * and folded first, so the decision is taken on everything decided so far; a writer that appends in
 * between makes the append fail and the decision is taken again.
 */
export async function decideLifecycle(
  store: EventStore,
  source: LifecycleStateSource,
  containerId: string,
  command: LifecycleCommand,
  context: LifecycleCommandContext,
): Promise<LifecycleResult> {
  const stream = lifecycleStream(containerId);
  let loaded: LoadedLifecycle | undefined;
  for (let attempt = 0; ; attempt++) {
    loaded = await loadLifecycle(store, source, containerId, loaded);
    const { state, revision } = loaded;
    const events = lifecycleDecider.decide(command, state);
    if (events.length === 0) return { events, state };
    const now = command.now;
    const toAppend: NewEvent[] = events.map((event) => ({
      type: event.type,
      data: event.data,
      metadata: {
        eventId: newEventId(now.getTime()),
        occurredAt: now.toISOString(),
        actor: context.actor,
        host: context.host,
        correlationId: context.correlationId ?? newEventId(now.getTime()),
        causationId: context.causationId ?? null,
      },
    }));
    try {
      const appended = await store.append(stream, toAppend, {
        expectedRevision: revision < 0 ? 'no_stream' : revision,
      });
      const next = events.reduce((s, e) => evolveLifecycle(s, e, now.toISOString()), state);
      return { events, state: next, appended };
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError) || attempt >= MAX_RETRIES) throw error;
    }
  }
}
