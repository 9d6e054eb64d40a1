import type { EventStore } from '@ds01/event-store';
import { z } from 'zod';
import type { ReadModel } from '../runner/readModel.ts';
import { CHAIN_ORIGIN, eventHash, nextLink } from './auditChain.ts';

const PAGE = 5000;

/** What `ds01 audit verify` found first; null fields when nothing is wrong. */
export interface AuditFinding {
  kind: 'changed' | 'removed' | 'inserted' | 'seal_mismatch';
  position: number;
  streamId: string | null;
  type: string | null;
  eventId: string | null;
  detail: string;
}

export interface AuditVerification {
  /** Events read from the log. */
  events: number;
  /** Events compared with the hashes recorded when DS01 first read them. */
  compared: number;
  /** Seals whose chain value was recomputed and compared. */
  sealsChecked: number;
  lastSeal: { position: number; upTo: number; at: string } | null;
  finding: AuditFinding | null;
}

const ChainRow = z.object({
  position: z.number(),
  stream_id: z.string(),
  type: z.string(),
  hash: z.string(),
});

const SealData = z.object({ upTo: z.number(), chainHash: z.string(), at: z.string() });

/**
 * Recomputes the hash chain over the whole log and compares it with what was recorded: each event's
 * hash as the audit projection stored it when it first read the event (names the first changed,
 * removed or slipped-in event exactly), and every AuditSealed's chain value (holds even when the
 * projections were rebuilt from the changed log: it then names the range between two seals).
 */
export async function verifyAuditChain(
  store: EventStore,
  recorded: ReadModel | null,
  onProgress?: (done: number, head: number) => void,
): Promise<AuditVerification> {
  const head = await store.headPosition();
  // The seals first: which chain values to keep on the way.
  const seals: { position: number; upTo: number; chainHash: string; at: string }[] = [];
  for await (const e of store.readAll({ filter: { eventTypes: ['AuditSealed'] } })) {
    const data = SealData.parse(e.data);
    seals.push({ position: e.position, upTo: data.upTo, chainHash: data.chainHash, at: data.at });
  }
  const wanted = new Set(seals.map((s) => s.upTo));
  const chainAt = new Map<number, string>();
  let chain = CHAIN_ORIGIN;
  let events = 0;
  let compared = 0;
  let finding: AuditFinding | null = null;
  let after = 0;
  const recordedUpTo = recorded ? recordedHead(recorded) : 0;

  const removed = (row: z.infer<typeof ChainRow>): AuditFinding => ({
    kind: 'removed',
    position: row.position,
    streamId: row.stream_id,
    type: row.type,
    eventId: null,
    detail: `the log no longer has the ${row.type} of stream ${row.stream_id} that was at position ${row.position}`,
  });
  while (finding === null) {
    const page = await store.readBatch({ after, maxCount: PAGE });
    if (page.length === 0) break;
    const last = page.at(-1)!.position;
    // The recorded hashes of the same positions, walked in step with the log.
    const rows = recorded ? recordedRows(recorded, after, last) : [];
    let next = 0;
    for (const event of page) {
      const skipped = rows[next];
      if (skipped && skipped.position < event.position) finding = removed(skipped);
      if (finding) break;
      const hash = eventHash(event);
      chain = nextLink(chain, hash);
      events++;
      if (wanted.has(event.position)) chainAt.set(event.position, chain);
      const row = rows[next];
      if (row?.position === event.position) {
        next++;
        compared++;
        if (row.hash !== hash) {
          finding = {
            kind: 'changed',
            position: event.position,
            streamId: event.streamId,
            type: event.type,
            eventId: event.metadata.eventId,
            detail: `position ${event.position} (${event.type} of ${event.streamId}) no longer matches the hash recorded when DS01 first read it`,
          };
        }
      } else if (event.position <= recordedUpTo) {
        finding = {
          kind: 'inserted',
          position: event.position,
          streamId: event.streamId,
          type: event.type,
          eventId: event.metadata.eventId,
          detail: `position ${event.position} (${event.type} of ${event.streamId}) was not on the log when DS01 read up to position ${recordedUpTo}`,
        };
      }
      if (finding) break;
    }
    after = last;
    onProgress?.(after, head);
  }
  if (finding === null && recorded && after < recordedUpTo) {
    // Events recorded past the log's end: its last ones were cut off.
    const [tail] = recordedRows(recorded, after, recordedUpTo);
    if (tail) finding = removed(tail);
  }

  let sealsChecked = 0;
  let previousGood = 0;
  for (const seal of seals.sort((a, b) => a.upTo - b.upTo)) {
    const value = chainAt.get(seal.upTo);
    if (value === undefined) {
      if (finding) break; // the walk stopped before it: the finding above comes first
      finding = {
        kind: 'seal_mismatch',
        position: seal.upTo,
        streamId: null,
        type: null,
        eventId: null,
        detail: `the seal at position ${seal.position} covers position ${seal.upTo}, which the log no longer has`,
      };
      break;
    }
    sealsChecked++;
    if (value !== seal.chainHash) {
      finding ??= {
        kind: 'seal_mismatch',
        position: seal.upTo,
        streamId: null,
        type: null,
        eventId: null,
        detail: `the chain up to position ${seal.upTo} does not give the value sealed at position ${seal.position} (${seal.at}): an event after position ${previousGood} and up to ${seal.upTo} was changed, removed or inserted`,
      };
      break;
    }
    previousGood = seal.upTo;
  }
  const lastSeal = seals.at(-1);
  return {
    events,
    compared,
    sealsChecked,
    lastSeal: lastSeal ? { position: lastSeal.position, upTo: lastSeal.upTo, at: lastSeal.at } : null,
    finding,
  };
}

/** The chain value after the last event the audit projection recorded, and its position. */
export function recordedChainHead(
  readModel: ReadModel,
): { position: number; chain: string; events: number } | null {
  const [row] = readModel.query(
    z.object({ position: z.number(), chain: z.string(), events: z.number() }),
    'SELECT position, chain, events FROM audit_chain_head WHERE id = 1',
  );
  return row ?? null;
}

function recordedHead(readModel: ReadModel): number {
  return recordedChainHead(readModel)?.position ?? 0;
}

function recordedRows(readModel: ReadModel, after: number, upTo: number): z.infer<typeof ChainRow>[] {
  return readModel.query(
    ChainRow,
    `SELECT position, stream_id, type, lower(hex(hash)) AS hash FROM audit_chain
      WHERE position > ? AND position <= ? ORDER BY position`,
    after,
    upTo,
  );
}
