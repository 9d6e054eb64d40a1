import { z } from 'zod';

/**
 * Who caused an event: a person (a unix user, through the CLI or their socket) or one of DS01's
 * own services (the docker watcher, the allocator, ...). Recorded on every event for the audit trail.
 */
export const ActorSchema = z.object({
  kind: z.enum(['user', 'service']),
  name: z.string().min(1),
});
export type Actor = z.infer<typeof ActorSchema>;

/** ISO-8601 instant in UTC, as written by Date.toISOString(). */
export const InstantSchema = z.iso.datetime({ offset: true });

/**
 * Metadata carried by every event. occurredAt is when the fact happened (given by the writer,
 * e.g. the Docker event's time); recordedAt is when the store made it durable (set by the store).
 */
export const EventMetadataSchema = z.object({
  eventId: z.uuid(),
  occurredAt: InstantSchema,
  recordedAt: InstantSchema,
  actor: ActorSchema,
  host: z.string().min(1),
  correlationId: z.string().min(1),
  causationId: z.string().min(1).nullable(),
});
export type EventMetadata = z.infer<typeof EventMetadataSchema>;

/** What a writer supplies: recordedAt is the store's to set. */
export const EventMetadataInputSchema = EventMetadataSchema.omit({ recordedAt: true });
export type EventMetadataInput = z.infer<typeof EventMetadataInputSchema>;

/** An event as a writer hands it to the store. */
export interface NewEvent<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
  metadata: EventMetadataInput;
}

/** An event as the store gives it back: decoded (upcast to its current version) and positioned. */
export interface RecordedEvent<Type extends string = string, Data = unknown> {
  type: Type;
  /** Schema version of `data` after upcasting: always the catalog's current version. */
  version: number;
  data: Data;
  metadata: EventMetadata;
  streamId: string;
  /** 0-based position of the event inside its stream. */
  revision: number;
  /** Position in the whole log; strictly increasing in log order, not necessarily dense. */
  position: number;
}

/**
 * Expected state of the stream an append writes to:
 * - 'any': no check;
 * - 'no_stream': the stream must not exist yet;
 * - 'stream_exists': the stream must have at least one event;
 * - a number: the revision of the stream's last event.
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

export interface AppendResult {
  /** Revision of the stream's last event after the append. */
  nextExpectedRevision: number;
  /** Log position of the last event of the append (of the existing event when it was a no-op). */
  position: number;
}
