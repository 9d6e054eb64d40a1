import { createHash } from 'node:crypto';
import type { RecordedEvent } from '@ds01/event-store';

/** Where every chain starts. */
export const CHAIN_ORIGIN = '0'.repeat(64);

/**
 * An event in one spelling: its place on the log (position, stream, revision), identity, type,
 * version, data and metadata, as JSON with keys sorted at every level. Two reads of the same stored
 * event give the same text; any change to a stored byte that the store hands back changes it.
 */
export function canonicalEvent(event: RecordedEvent): string {
  return canonicalJson({
    position: event.position,
    streamId: event.streamId,
    revision: event.revision,
    type: event.type,
    version: event.version,
    data: event.data,
    metadata: event.metadata,
  });
}

export function eventHash(event: RecordedEvent): string {
  return createHash('sha256').update(canonicalEvent(event)).digest('hex');
}

/** The next link of the chain: sha256(previous link ‖ the event's hash). */
export function nextLink(previous: string, hash: string): string {
  return createHash('sha256').update(previous).update(hash).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
