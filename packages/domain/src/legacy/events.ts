import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { Instant } from '../values.ts';

/** ds01-infra's event log, imported: one stream per host (`ds01-infra-events-<host>`). */
export const legacyEventStream = (host: string) => `ds01-infra-events-${host}`;

/**
 * One line of ds01-infra's `/var/log/ds01/events.jsonl`, kept as it was (formats.md §e): its own
 * type (`gpu.allocated`, `maintenance.idle_kill`, ...), user, source and details. The usage and
 * audit views read the ones that say what DS01's own events say (GPU grants and releases, denials,
 * containers, lifecycle kills). Where it came from (file:line) is in the event's correlation id, so
 * the same line imported from a rotated copy of the file is the same event.
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
  }),
});

export const legacyEvents = [Ds01InfraEventImported] as const;
