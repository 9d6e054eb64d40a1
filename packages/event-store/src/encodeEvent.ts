import type { EventCodec } from './codec.ts';
import type { EventMetadataInput, ExpectedRevision, NewEvent } from './envelope.ts';
import { EventMetadataInputSchema } from './envelope.ts';
import { EventSchemaError } from './errors.ts';

/** An event checked and encoded for storage; every adapter stores these fields. */
export interface EncodedEvent {
  eventId: string;
  type: string;
  /** Schema version the codec wrote `data` as. */
  version: number;
  /** The validated data as JSON text: also what idempotent re-appends are compared by. */
  data: string;
  metadata: EventMetadataInput;
}

/**
 * Validates an append before anything touches the log: a stream id, at least one event, metadata
 * that fits the envelope and data that fits its type's schema (through the codec). Throws
 * EventSchemaError naming the offending field, so a refused append writes nothing.
 */
export function encodeAppend(
  codec: EventCodec,
  streamId: string,
  events: readonly NewEvent[],
  expected: ExpectedRevision,
): EncodedEvent[] {
  if (typeof streamId !== 'string' || streamId.length === 0)
    throw new EventSchemaError('(append)', 'streamId', 'must be a non-empty string');
  if (!isExpectedRevision(expected))
    throw new EventSchemaError(
      '(append)',
      'expectedRevision',
      `must be 'any', 'no_stream', 'stream_exists' or a revision >= 0 (got ${String(expected)})`,
    );
  if (events.length === 0)
    throw new EventSchemaError('(append)', 'events', 'an append needs at least one event');
  return events.map((event) => encodeEvent(codec, event));
}

/** One stream's part of a multi-stream append, validated and encoded. */
export interface EncodedStreamAppend {
  streamId: string;
  expected: ExpectedRevision;
  encoded: EncodedEvent[];
}

/**
 * Validates a multi-stream append as encodeAppend does each of its streams, and refuses a stream named
 * twice (its two parts would each expect the revision the other changes).
 */
export function encodeAppends(
  codec: EventCodec,
  appends: readonly { streamId: string; events: readonly NewEvent[]; expectedRevision?: ExpectedRevision }[],
): EncodedStreamAppend[] {
  if (!Array.isArray(appends))
    throw new EventSchemaError('(append)', 'appends', 'must be an array of { streamId, events }');
  const seen = new Set<string>();
  return appends.map(({ streamId, events, expectedRevision }, i) => {
    if (seen.has(streamId))
      throw new EventSchemaError(
        '(append)',
        `appends.${i}.streamId`,
        `stream '${streamId}' appears twice in one batch: put its events in one entry`,
      );
    seen.add(streamId);
    const expected = expectedRevision ?? 'any';
    return { streamId, expected, encoded: encodeAppend(codec, streamId, events, expected) };
  });
}

function encodeEvent(codec: EventCodec, event: NewEvent): EncodedEvent {
  const parsed = EventMetadataInputSchema.safeParse(event.metadata);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new EventSchemaError(String(event.type), ['metadata', ...issue.path].join('.'), issue.message);
  }
  const { version, data } = codec.encode(event.type, event.data);
  return {
    eventId: parsed.data.eventId,
    type: event.type,
    version,
    data: JSON.stringify(data),
    metadata: parsed.data,
  };
}

function isExpectedRevision(expected: unknown): expected is ExpectedRevision {
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return true;
  return typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0;
}
