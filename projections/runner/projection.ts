import type { DatabaseSync } from 'node:sqlite';
import type { Ds01Event } from '@ds01/domain';
import type { RecordedEvent } from '@ds01/event-store';

/**
 * A read model derived from the log: a few SQL tables in the projections database that one
 * projection owns, kept up to date by the runner (projections/runner/projectionRunner.ts).
 *
 * Every method is synchronous: the runner calls apply() for a batch of events inside one
 * transaction that also moves the projection's checkpoint, so a crash never applies an event
 * twice or skips one. apply() must depend only on the event and the tables (no clock, no I/O),
 * which is what makes a rebuild from position 0 equal the live state.
 */
export interface Projection {
  /** Unique, lower-case, used as the checkpoint key and as the prefix of its tables. */
  readonly name: string;
  /** Bump it when setup() or apply() changes meaning: the runner then rebuilds it at start. */
  readonly version: number;
  /** The event types it reads; the runner asks the store for these only. */
  readonly eventTypes: readonly string[];
  /** One line for `ds01 projections list`. */
  readonly description: string;
  /** Creates its tables and indexes if they do not exist (CREATE ... IF NOT EXISTS). */
  setup(db: DatabaseSync): void;
  /** Removes everything setup() created (DROP TABLE IF EXISTS); the runner calls setup() after. */
  reset(db: DatabaseSync): void;
  /** Folds one event into the tables. Throwing stops this projection (the others go on). */
  apply(db: DatabaseSync, event: RecordedEvent): void;
  /**
   * Optional: folds a whole batch (the runner's transaction) at once, e.g. summing in memory and
   * writing each row once instead of once per event. It must leave the tables exactly as apply()
   * one event after another would. When it throws, the runner rolls the batch back and applies it
   * again with apply() to find, keep the events before, and stop at the failing one.
   */
  applyBatch?(db: DatabaseSync, events: readonly RecordedEvent[]): void;
}

type DomainEventType = Ds01Event['type'];

/** A recorded event whose type and data are narrowed to the given domain event types. */
export type ProjectedEvent<Type extends DomainEventType = DomainEventType> =
  Extract<Ds01Event, { type: Type }> extends infer E
    ? E extends { type: infer T extends string; data: infer D }
      ? RecordedEvent<T, D>
      : never
    : never;

/**
 * Declares a projection over domain events: `apply` receives events narrowed to `eventTypes`,
 * so `switch (event.type)` gives typed `event.data` with no casts.
 */
export function defineProjection<const Type extends DomainEventType>(spec: {
  name: string;
  version: number;
  description: string;
  eventTypes: readonly Type[];
  setup(db: DatabaseSync): void;
  reset(db: DatabaseSync): void;
  apply(db: DatabaseSync, event: ProjectedEvent<Type>): void;
  applyBatch?(db: DatabaseSync, events: readonly ProjectedEvent<Type>[]): void;
}): Projection {
  if (!/^[a-z][a-z0-9_]*$/.test(spec.name)) {
    throw new Error(`projection name '${spec.name}' must be lower-case letters, digits and _`);
  }
  if (!Number.isInteger(spec.version) || spec.version < 1) {
    throw new Error(`projection ${spec.name}: version must be a positive integer, got ${spec.version}`);
  }
  const { applyBatch } = spec;
  return {
    ...spec,
    apply: (db, event) => spec.apply(db, event as ProjectedEvent<Type>),
    ...(applyBatch
      ? { applyBatch: (db, events) => applyBatch(db, events as readonly ProjectedEvent<Type>[]) }
      : {}),
  };
}

/**
 * Prepares a projection's statements once per database connection (preparing SQL for every
 * event would dominate a rebuild). SQLite re-prepares them by itself after reset() drops and
 * setup() recreates the tables.
 */
export function preparedOnce<Statements>(
  prepare: (db: DatabaseSync) => Statements,
): (db: DatabaseSync) => Statements {
  const byConnection = new WeakMap<DatabaseSync, Statements>();
  return (db) => {
    let statements = byConnection.get(db);
    if (!statements) {
      statements = prepare(db);
      byConnection.set(db, statements);
    }
    return statements;
  };
}
