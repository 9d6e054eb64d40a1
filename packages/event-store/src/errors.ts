import { Ds01Error } from '@ds01/errors';
import type { ExpectedRevision } from './envelope.ts';

/** Base of every error the event store raises, so callers can tell store trouble from bugs. */
export class EventStoreError extends Ds01Error {
  override name = 'EventStoreError';
}

/** Optimistic concurrency: the stream was not at the revision the writer expected. */
export class WrongExpectedRevisionError extends EventStoreError {
  override name = 'WrongExpectedRevisionError';
  readonly streamId: string;
  readonly expected: ExpectedRevision;
  /** Revision of the stream's last event, or 'no_stream'. */
  readonly actual: number | 'no_stream';
  constructor(streamId: string, expected: ExpectedRevision, actual: number | 'no_stream') {
    super(
      `stream '${streamId}' is at revision ${actual === 'no_stream' ? '(no stream)' : actual}, ` +
        `but the append expected ${describeExpected(expected)}: reload the stream and decide again`,
    );
    this.streamId = streamId;
    this.expected = expected;
    this.actual = actual;
  }
}

function describeExpected(expected: ExpectedRevision): string {
  if (expected === 'no_stream') return 'no stream';
  if (expected === 'stream_exists') return 'an existing stream';
  if (expected === 'any') return 'any revision';
  return `revision ${expected}`;
}

/** An event id that is already in the log with another stream or another payload. */
export class EventIdConflictError extends EventStoreError {
  override name = 'EventIdConflictError';
  readonly eventId: string;
  readonly streamId: string;
  constructor(eventId: string, streamId: string, detail: string) {
    super(`event id ${eventId} appended to stream '${streamId}' is already in the log ${detail}`);
    this.eventId = eventId;
    this.streamId = streamId;
  }
}

/** Data that does not fit its event type's schema (or an event type the catalog does not know). */
export class EventSchemaError extends EventStoreError {
  override name = 'EventSchemaError';
  readonly eventType: string;
  /** Dotted path of the first offending field, '' for the whole payload. */
  readonly field: string;
  constructor(eventType: string, field: string, problem: string) {
    super(`event ${eventType}: ${field ? `field '${field}' ` : ''}${problem}`);
    this.eventType = eventType;
    this.field = field;
  }
}

/**
 * Why a store cannot be used, for callers that react differently: a full or read-only disk heals
 * once the admin frees space or remounts it (retry and lose nothing); a corrupt file does not.
 */
export type StoreUnavailableReason = 'disk_full' | 'read_only' | 'locked' | 'corrupt' | 'io' | 'other';

/** The store's file cannot be used: locked by another process, corrupt, or not a DS01 store. */
export class StoreUnavailableError extends EventStoreError {
  override name = 'StoreUnavailableError';
  readonly location: string;
  readonly reason: StoreUnavailableReason;
  /** What is wrong with it and what to do, without the location (for other SQLite files' errors). */
  readonly problem: string;
  constructor(
    location: string,
    problem: string,
    options?: { cause?: unknown; reason?: StoreUnavailableReason },
  ) {
    super(`event store ${location}: ${problem}`, options);
    this.location = location;
    this.problem = problem;
    this.reason = options?.reason ?? 'other';
  }
}

/**
 * An append asked for after close() began: it was not written (appends accepted before close()
 * are committed and acknowledged first). Retrying it on this store is pointless; open the store again.
 */
export class StoreClosedError extends StoreUnavailableError {
  override name = 'StoreClosedError';
  constructor(location: string) {
    super(
      location,
      'is closed (close() began before this append): the append was not written; open the store again to append it',
    );
  }
}
