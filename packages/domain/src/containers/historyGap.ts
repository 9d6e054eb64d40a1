import { z } from 'zod';
import { defineEvent } from '../events/defineEvent.ts';
import { Instant } from '../values.ts';
import { instantOfTimeNano } from './dockerEvents.ts';
import { uuidV5 } from './eventIds.ts';

/** Stream of what the Docker watcher of one host could not see: `docker-history-<host>`. */
export const dockerHistoryStream = (host: string) => `docker-history-${host}`;

/**
 * Docker no longer holds what happened on this host between `from` (the watcher's checkpoint) and
 * `until` (the oldest event dockerd still keeps): it replays only its last `ringSize` events, and more
 * than that happened while the watcher was away. Containers that exist now are reconciled; one that was
 * created and removed in the gap left no trace DS01 can read. Recorded so that the log says so, rather
 * than looking complete.
 */
export const DockerHistoryMissed = defineEvent({
  type: 'DockerHistoryMissed',
  schema: z.strictObject({
    host: z.string().min(1),
    from: Instant,
    until: Instant,
    ringSize: z.number().int().positive(),
  }),
});

export const historyGapEvents = [DockerHistoryMissed] as const;

/** What the daemon still holds of its history (every event type), as the host layer reads it. */
export interface EventRingReading {
  events: number;
  oldestNano: string | null;
}

/**
 * The gap between the checkpoint and the oldest event dockerd still keeps, or null when its ring reaches
 * back to the checkpoint (or is not full: then it holds everything since the daemon started).
 */
export function historyGapOf(
  ring: EventRingReading,
  checkpointNano: string,
  ringSize: number,
): { fromNano: string; untilNano: string } | null {
  if (ring.events < ringSize || ring.oldestNano === null) return null;
  if (BigInt(ring.oldestNano) <= BigInt(checkpointNano)) return null;
  return { fromNano: checkpointNano, untilNano: ring.oldestNano };
}

/** The event recording a gap; its id comes from the gap, so a second round that finds it again adds nothing. */
export function dockerHistoryMissed(
  host: string,
  gap: { fromNano: string; untilNano: string },
  ringSize: number,
) {
  return {
    eventId: uuidV5(`history-gap|${host}|${gap.fromNano}|${gap.untilNano}`),
    event: DockerHistoryMissed({
      host,
      from: instantOfTimeNano(gap.fromNano),
      until: instantOfTimeNano(gap.untilNano),
      ringSize,
    }),
  };
}
