import { describe, expect, it } from 'vitest';
import { EventMetadataInputSchema, eventIdFor, newEventId } from '../src/index.ts';

const isValidEventId = (id: string) => EventMetadataInputSchema.shape.eventId.safeParse(id).success;

describe('event ids (UUID version 7)', () => {
  it('are valid UUIDs of version 7 that the envelope accepts', () => {
    const id = newEventId();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(isValidEventId(id)).toBe(true);
  });

  it('carry their time in the first 48 bits, so later ids sort after earlier ones', () => {
    const at = Date.parse('2025-03-01T12:00:00.000Z');
    const id = newEventId(at);
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
    const ids = [at, at + 1, at + 1000, at + 86_400_000].map((t) => newEventId(t));
    expect([...ids].sort()).toEqual(ids);
  });

  it('are unique when made in the same millisecond', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newEventId(1_700_000_000_000)));
    expect(ids.size).toBe(10_000);
  });

  it('eventIdFor gives one fact one id, and another fact another', () => {
    const at = new Date('2025-03-01T12:00:00.000Z');
    const identity = 'container 3f2a… start 1740830400000000000';
    expect(eventIdFor(at, identity)).toBe(eventIdFor(at, identity));
    expect(eventIdFor(at, identity)).not.toBe(eventIdFor(at, `${identity}!`));
    expect(eventIdFor(at, identity)).not.toBe(eventIdFor(at.getTime() + 1, identity));
    expect(isValidEventId(eventIdFor(at, identity))).toBe(true);
  });
});
