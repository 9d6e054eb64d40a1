import { DatabaseSync } from 'node:sqlite';
import { eventCatalog } from '@ds01/domain';
import type { RecordedEvent } from '@ds01/event-store';
import type { Projection } from './projection.ts';

/** A domain event as a spec writes it; stream and time are optional. */
export interface SpecEvent {
  type: string;
  data: unknown;
  stream?: string;
  /** Default: 2025-01-01T00:00Z plus one minute per event. */
  occurredAt?: string;
}

/**
 * Given/when/then for projections, without a store: events are validated by the domain catalog
 * (a spec cannot feed data the log would refuse), applied in order to a fresh in-memory database,
 * and the tables queried.
 *
 *   const rows = projectionSpec(usersProjection).given(UserRegistered({...})).when(UserDeparted({...}))
 *     .rows('SELECT user, departed_at FROM users');
 */
export function projectionSpec(projection: Projection) {
  const history: SpecEvent[] = [];
  const spec = {
    given(...events: SpecEvent[]) {
      history.push(...events);
      return spec;
    },
    when(...events: SpecEvent[]) {
      history.push(...events);
      return spec;
    },
    /** Applies every event and returns the query's rows (plain objects). */
    rows(sql: string): Record<string, unknown>[] {
      const db = run(projection, history);
      try {
        return db
          .prepare(sql)
          .all()
          .map((row) => ({ ...row }));
      } finally {
        db.close();
      }
    },
    /** Applies every event and returns what apply() threw (undefined when nothing did). */
    error(): unknown {
      try {
        run(projection, history).close();
        return undefined;
      } catch (error) {
        return error;
      }
    },
  };
  return spec;
}

function run(projection: Projection, events: readonly SpecEvent[]): DatabaseSync {
  const db = new DatabaseSync(':memory:');
  try {
    projection.setup(db);
    for (const [index, event] of events.entries()) projection.apply(db, recorded(event, index));
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

const START = Date.parse('2025-01-01T00:00:00.000Z');

function recorded(event: SpecEvent, index: number): RecordedEvent {
  const { version, data } = eventCatalog.encode(event.type, event.data);
  const occurredAt = event.occurredAt ?? new Date(START + index * 60_000).toISOString();
  return {
    type: event.type,
    version,
    data,
    metadata: {
      eventId: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
      occurredAt,
      recordedAt: occurredAt,
      actor: { kind: 'service', name: 'spec' },
      host: 'spec-host',
      correlationId: `spec-${index}`,
      causationId: null,
    },
    streamId: event.stream ?? 'spec-stream',
    revision: index,
    position: index + 1,
  };
}
