import { createHash } from 'node:crypto';
import {
  type AllStreamResolvedEvent,
  type AppendStreamState,
  type RecordedEvent as EsdbRecordedEvent,
  eventTypeFilter,
  excludeSystemEvents,
  type Filter,
  type JSONEventData,
  NO_STREAM,
  type ReadPosition,
  START,
  streamNameFilter,
} from '@kurrent/kurrentdb-client';
import type { EventCodec } from '../codec.ts';
import type { EncodedEvent } from '../encodeEvent.ts';
import type { EventMetadata, RecordedEvent } from '../envelope.ts';
import { EventMetadataInputSchema } from '../envelope.ts';
import { EventSchemaError } from '../errors.ts';
import type { EventFilter } from '../eventStore.ts';

/**
 * How DS01's envelope maps onto EventStoreDB (KurrentDB), in one place:
 *
 * - event id, type: ESDB's own event id and type; data: the codec's JSON.
 * - metadata: our metadata JSON plus `schemaVersion` (the codec version `data` was written as) and
 *   ESDB's `$correlationId`/`$causationId`, which its system projections understand. `recordedAt`
 *   is not written: it is the server's `created` time, so the store, not the writer, sets it.
 * - revision: ESDB's stream revision (a bigint, converted to a number; streams stay far below 2^53).
 * - position: ESDB's commit position of the event in the transaction log. Events appended through
 *   the gRPC API commit themselves, so commit = prepare = the event's own log position: unique and
 *   growing in log order, as the port requires. To resume after position p we ask for {commit: p,
 *   prepare: p}. (Events written by the legacy TCP API inside explicit transactions share a commit
 *   position; DS01 never writes those.)
 */
export const SCHEMA_VERSION_KEY = 'schemaVersion';

export function toEventData(event: EncodedEvent): JSONEventData {
  const { metadata } = event;
  return {
    id: event.eventId,
    contentType: 'application/json',
    type: event.type,
    data: JSON.parse(event.data),
    metadata: {
      ...metadata,
      [SCHEMA_VERSION_KEY]: event.version,
      $correlationId: metadata.correlationId,
      ...(metadata.causationId ? { $causationId: metadata.causationId } : {}),
    },
  };
}

/** What idempotent re-appends are compared by: the type and the data exactly as stored. */
export function fingerprint(type: string, dataJson: string): string {
  return createHash('sha256').update(type).update('\0').update(dataJson).digest('base64');
}

export function fingerprintOfStored(event: EsdbRecordedEvent): string {
  return fingerprint(event.type, JSON.stringify(event.data));
}

/** The port's position of an ESDB event (see above); undefined before server 22.6, which we refuse. */
export function positionOf(event: EsdbRecordedEvent): number | undefined {
  return event.position === undefined ? undefined : Number(event.position.commit);
}

/** ESDB's read position for "strictly after p": the read includes p itself, so callers skip it. */
export function readPositionAfter(after: number | undefined): ReadPosition {
  if (!after) return START;
  const at = BigInt(after);
  return { commit: at, prepare: at };
}

export function streamStateOf(revision: number | 'no_stream'): AppendStreamState {
  return revision === 'no_stream' ? NO_STREAM : BigInt(revision);
}

/** Events of DS01's own: not ESDB's system events ($-prefixed types) or system streams. */
export function isSystemEvent(event: EsdbRecordedEvent): boolean {
  return event.type.startsWith('$') || event.streamId.startsWith('$');
}

/**
 * ESDB filters on one thing at a time (stream name or event type): the server filters on the
 * prefixes when there are any (the narrower, and the one it indexes), or on the types; whatever the
 * server did not filter on is checked here too, so a combined filter is exact.
 */
export function serverFilterOf(filter: EventFilter | undefined): Filter {
  if (filter?.streamPrefixes?.length) return streamNameFilter({ prefixes: [...filter.streamPrefixes] });
  if (filter?.eventTypes?.length) {
    // A regex of exact names: type prefixes would let 'a.B' match 'a.Bc'.
    return eventTypeFilter({ regex: `^(?:${filter.eventTypes.map(escapeRegex).join('|')})$` });
  }
  return excludeSystemEvents();
}

export function matchesFilter(
  event: { streamId: string; type: string },
  filter: EventFilter | undefined,
): boolean {
  if (filter?.eventTypes?.length && !filter.eventTypes.includes(event.type)) return false;
  if (
    filter?.streamPrefixes?.length &&
    !filter.streamPrefixes.some((prefix) => event.streamId.startsWith(prefix))
  )
    return false;
  return true;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Turns a stored ESDB event into the port's RecordedEvent: decoded, upcast, positioned. */
export function toRecordedEvent(
  event: EsdbRecordedEvent,
  codec: EventCodec,
  position: number,
): RecordedEvent {
  if (!event.isJson)
    throw new EventSchemaError(event.type, '', `event ${event.id} in ${event.streamId} is not JSON`);
  const stored = (event.metadata ?? {}) as Record<string, unknown>;
  const version = stored[SCHEMA_VERSION_KEY];
  if (typeof version !== 'number') {
    throw new EventSchemaError(
      event.type,
      `metadata.${SCHEMA_VERSION_KEY}`,
      `event ${event.id} in ${event.streamId} was not written by DS01 (no schema version)`,
    );
  }
  const parsed = EventMetadataInputSchema.safeParse(stored);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new EventSchemaError(event.type, ['metadata', ...issue.path].join('.'), issue.message);
  }
  const metadata: EventMetadata = { ...parsed.data, recordedAt: event.created.toISOString() };
  const decoded = codec.decode(event.type, version, event.data);
  return {
    type: event.type,
    version: decoded.version,
    data: decoded.data,
    metadata,
    streamId: event.streamId,
    revision: Number(event.revision),
    position,
  };
}

/** The resolved event's own record, when it is one of DS01's (links and system events are not). */
export function ownEventOf(resolved: AllStreamResolvedEvent): EsdbRecordedEvent | undefined {
  const event = resolved.event;
  if (!event || resolved.link || isSystemEvent(event)) return undefined;
  return event;
}

export { redactUrl } from '../redactUrl.ts';
