import { createHash } from 'node:crypto';
import { UserRegistered, userStream } from '../users/events.ts';
import { Ds01InfraEventImported, legacyEventStream } from './events.ts';

/** One line of ds01-infra's events.jsonl, as its envelope says (formats.md §e). */
export interface Ds01InfraRecord {
  timestamp: string;
  eventType: string;
  schemaVersion: string | null;
  user: string | null;
  source: string | null;
  details: Record<string, unknown>;
}

export type ParsedLine = { ok: true; record: Ds01InfraRecord } | { ok: false; problem: string };

/**
 * Reads one line of events.jsonl. Its writers never raised, so a line can be anything: cut short by
 * a full disk, two lines run together, a `details` that is not an object. The problem is said in
 * words a person can act on; the caller reports it with the line's number and skips it.
 */
export function parseDs01InfraLine(text: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `not JSON (${(error as Error).message})` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, problem: 'not a JSON object' };
  }
  const o = value as Record<string, unknown>;
  if (typeof o['timestamp'] !== 'string' || Number.isNaN(Date.parse(o['timestamp']))) {
    return { ok: false, problem: 'no readable "timestamp"' };
  }
  if (typeof o['event_type'] !== 'string' || o['event_type'] === '') {
    return { ok: false, problem: 'no "event_type"' };
  }
  const details = o['details'] ?? {};
  if (details === null || typeof details !== 'object' || Array.isArray(details)) {
    return { ok: false, problem: '"details" is not an object' };
  }
  const text_ = (key: string) => (typeof o[key] === 'string' && o[key] !== '' ? (o[key] as string) : null);
  return {
    ok: true,
    record: {
      timestamp: new Date(o['timestamp']).toISOString(),
      eventType: o['event_type'],
      schemaVersion: o['schema_version'] === undefined ? null : String(o['schema_version']),
      user: text_('user'),
      source: text_('source'),
      details: details as Record<string, unknown>,
    },
  };
}

/** Where an imported line goes on DS01's log, and as which event. */
export interface ImportedFact {
  stream: string;
  event: { type: string; data: unknown };
  occurredAt: string;
  /** The same line gives the same id, whichever file or import it comes from. */
  identity: string;
}

/**
 * The DS01 event a ds01-infra line becomes: `user.added` (with its group) registers a user DS01
 * does not know yet (`knownUser` says whether it does: a later group must not be overwritten by an
 * older one); every line is kept as Ds01InfraEventImported too, so nothing of the old log is lost.
 * `occurrence` tells apart identical lines (same text, same timestamp) of one file.
 */
export function importedFacts(
  record: Ds01InfraRecord,
  line: string,
  occurrence: number,
  host: string,
  knownUser: (user: string) => boolean,
): ImportedFact[] {
  const identity = `ds01-infra:${createHash('sha256').update(line).digest('hex')}:${occurrence}`;
  const facts: ImportedFact[] = [
    {
      stream: legacyEventStream(host),
      event: Ds01InfraEventImported(record),
      occurredAt: record.timestamp,
      identity,
    },
  ];
  const group = record.details['group'];
  if (
    record.eventType === 'user.added' &&
    record.user &&
    typeof group === 'string' &&
    group &&
    !knownUser(record.user)
  ) {
    facts.push({
      stream: userStream(record.user),
      event: UserRegistered({ user: record.user, uid: null, group }),
      occurredAt: record.timestamp,
      identity: `${identity}:user`,
    });
  }
  return facts;
}
