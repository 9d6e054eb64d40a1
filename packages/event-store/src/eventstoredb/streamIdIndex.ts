import type { RecordedEvent as EsdbRecordedEvent } from '@kurrent/kurrentdb-client';
import { fingerprintOfStored, positionOf } from './mapping.ts';

/** An event already in a stream, as much as idempotency needs of it. */
export interface KnownEvent {
  revision: number;
  position: number;
  fingerprint: string;
}

export interface StreamIds {
  /** Revision of the last event seen, or 'no_stream'. */
  revision: number | 'no_stream';
  ids: Map<string, KnownEvent>;
}

/** Reads a stream's events from a revision on (empty when the stream does not exist). */
export type ReadRawStream = (streamId: string, fromRevision: number) => AsyncIterable<EsdbRecordedEvent>;

/**
 * The event ids of recently used streams, so that an append can tell which of its events are
 * already in the stream without reading the whole stream each time: a refresh reads only what
 * was appended since (by anyone). EventStoreDB has no lookup by event id and dedups only the
 * same events at the same expected position; this index is what makes the port's idempotency
 * exact on it. Least recently used streams are dropped (and read again when next appended to).
 */
export class StreamIdIndex {
  readonly #streams = new Map<string, StreamIds>();
  readonly #read: ReadRawStream;
  readonly #capacity: number;

  constructor(read: ReadRawStream, capacity = 1000) {
    this.#read = read;
    this.#capacity = capacity;
  }

  /** The stream's ids brought up to date with the log. */
  async refresh(streamId: string): Promise<StreamIds> {
    const entry = this.#streams.get(streamId) ?? {
      revision: 'no_stream' as const,
      ids: new Map<string, KnownEvent>(),
    };
    this.#streams.delete(streamId);
    const from = entry.revision === 'no_stream' ? 0 : entry.revision + 1;
    for await (const event of this.#read(streamId, from)) {
      const revision = Number(event.revision);
      entry.ids.set(event.id, {
        revision,
        position: positionOf(event) ?? 0,
        fingerprint: fingerprintOfStored(event),
      });
      entry.revision = revision;
    }
    this.#streams.set(streamId, entry);
    if (this.#streams.size > this.#capacity) this.#streams.delete(this.#streams.keys().next().value!);
    return entry;
  }
}
