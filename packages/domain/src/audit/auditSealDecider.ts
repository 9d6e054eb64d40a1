import type { Decider } from '@ds01/event-store';
import type { EventOf } from '../events/defineEvent.ts';
import { AuditSealed } from './events.ts';

/** Seal the chain as it stands after position `upTo` (its value there, computed by the caller). */
export interface SealAudit {
  type: 'SealAudit';
  upTo: number;
  chainHash: string;
  events: number;
  /** Events other than seals after the last seal's position (the caller counts them on its view). */
  newEvents: number;
  now: Date;
}

export type AuditSealEvent = EventOf<typeof AuditSealed>;

export interface AuditSealState {
  /** Position the last seal covers (0: none yet). */
  sealedUpTo: number;
}

/**
 * One seal per stretch of new events: a seal that would cover nothing new (no event but seals since
 * the last one: an idle log is not sealed every hour for its own seals) is not appended, and a seal
 * never goes back (a seal of an older position after a newer one would say nothing).
 */
export const auditSealDecider: Decider<SealAudit, AuditSealEvent, AuditSealState> = {
  initialState: () => ({ sealedUpTo: 0 }),
  decide(command, state) {
    if (command.upTo <= state.sealedUpTo || command.newEvents === 0) return [];
    return [
      AuditSealed({
        upTo: command.upTo,
        chainHash: command.chainHash,
        events: command.events,
        at: command.now.toISOString(),
      }),
    ];
  },
  evolve: (state, event) => ({ sealedUpTo: Math.max(state.sealedUpTo, event.data.upTo) }),
};
