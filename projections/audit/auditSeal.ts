import { type AuditSealEvent, auditSealDecider, auditSealStream } from '@ds01/domain';
import { type Actor, CommandHandler, type EventStore } from '@ds01/event-store';
import { z } from 'zod';
import type { ReadModel } from '../runner/readModel.ts';
import { recordedChainHead } from './auditVerification.ts';

/**
 * Seals the hash chain as the audit projection has it now (its last event's chain value) on the
 * host's `audit-seals-<host>` stream; nothing when no event came since the last seal. What ds01d's
 * audit sealer does every hour and `ds01 audit seal` does at once.
 */
export async function sealAuditChain(options: {
  store: EventStore;
  readModel: ReadModel;
  host: string;
  actor: Actor;
  now: Date;
}): Promise<AuditSealEvent | null> {
  const head = recordedChainHead(options.readModel);
  if (!head) return null;
  const handler = new CommandHandler(options.store, auditSealDecider);
  const stream = auditSealStream(options.host);
  const { state } = await handler.load(stream);
  const [{ n: newEvents } = { n: 0 }] = options.readModel.query(
    z.object({ n: z.number() }),
    "SELECT count(*) AS n FROM audit_chain WHERE position > ? AND type <> 'AuditSealed'",
    state.sealedUpTo,
  );
  const { events } = await handler.handle(
    stream,
    {
      type: 'SealAudit',
      upTo: head.position,
      chainHash: head.chain,
      events: head.events,
      newEvents,
      now: options.now,
    },
    { actor: options.actor, host: options.host, now: options.now },
  );
  return events[0] ?? null;
}
