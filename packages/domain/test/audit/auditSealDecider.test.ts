import { describe, it } from 'vitest';
import { AuditSealed, auditSealDecider, type SealAudit } from '../../src/index.ts';
import { DeciderSpecification } from '../../src/testing/deciderSpecification.ts';

const spec = DeciderSpecification.for(auditSealDecider);
const NOW = new Date('2026-03-02T12:00:00.000Z');
const HASH = 'ab'.repeat(32);
const seal = (upTo: number, newEvents = 10): SealAudit => ({
  type: 'SealAudit',
  upTo,
  chainHash: HASH,
  events: upTo,
  newEvents,
  now: NOW,
});
const sealed = (upTo: number) => AuditSealed({ upTo, chainHash: HASH, events: upTo, at: NOW.toISOString() });

describe('audit seal decider', () => {
  it('given no seal, when the chain is sealed, then it is sealed up to that position', () => {
    spec
      .given([])
      .when(seal(120))
      .then([sealed(120)]);
  });

  it('given a seal up to 120, when nothing new came since, then nothing is sealed again', () => {
    spec
      .given([sealed(120)])
      .when(seal(120))
      .thenNothingHappened();
  });

  it('given a seal up to 120, when asked to seal an older position, then nothing is sealed', () => {
    spec
      .given([sealed(120)])
      .when(seal(80))
      .thenNothingHappened();
  });

  it('given a seal up to 120, when only that seal came since, then nothing is sealed', () => {
    spec
      .given([sealed(120)])
      .when(seal(121, 0))
      .thenNothingHappened();
  });

  it('given a seal up to 120, when events came since, then the next seal covers them', () => {
    spec
      .given([sealed(120)])
      .when(seal(500))
      .then([sealed(500)]);
  });
});
