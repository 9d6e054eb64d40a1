import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { Instant } from '../values.ts';

/** ds01-infra's event log, imported: one stream per host (`ds01-infra-events-<host>`). */
export const legacyEventStream = (host: string) => `ds01-infra-events-${host}`;

/**
 * One line of ds01-infra's `/var/log/ds01/events.jsonl`, kept as it was (formats.md §e): its own
 * type (`gpu.allocated`, `maintenance.idle_kill`, ...), user, source and details. Where a DS01
 * event says the same, the usage and audit views read this one as that fact.
 */
export const Ds01InfraEventImported = defineEvent({
  type: 'Ds01InfraEventImported',
  schema: z.strictObject({
    /** The line's `timestamp`. */
    timestamp: Instant,
    eventType: z.string().min(1),
    schemaVersion: z.string().nullable(),
    user: z.string().nullable(),
    source: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    /** Where it came from: the file and its 1-based line number. */
    file: z.string().min(1),
    line: z.number().int().positive(),
  }),
});

export const legacyEvents = [Ds01InfraEventImported] as const;
