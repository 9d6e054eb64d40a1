import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { Instant } from '../values.ts';

/** The seals of the log's hash chain: one stream per host (`audit-seals-<host>`). */
export const auditSealStream = (host: string) => `audit-seals-${host}`;

/** A SHA-256 digest in lower-case hex. */
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 digest in hex');

/**
 * The hash chain over the log, sealed up to `upTo`: `chainHash` is the chain's value after the event
 * at that position (each link is sha256(previous link + the event's canonical form), starting from
 * 64 zeros). `ds01 audit verify` recomputes it: an event changed, removed or slipped in before a seal
 * no longer gives the sealed value. Each seal covers the seals before it, so they cannot be changed
 * either without breaking the next one.
 */
export const AuditSealed = defineEvent({
  type: 'AuditSealed',
  schema: z.strictObject({
    upTo: z.number().int().nonnegative(),
    chainHash: Sha256Hex,
    /** Events the chain covers (the log's positions need not be dense). */
    events: z.number().int().nonnegative(),
    at: Instant,
  }),
});

export const auditEvents = [AuditSealed] as const;
