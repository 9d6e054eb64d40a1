import { randomUUID } from 'node:crypto';
import { defineEvent, EventCatalog } from '@ds01/domain';
import { z } from 'zod';
import type { NewEvent } from '../../src/index.ts';

/**
 * A small catalog of its own for the store's tests, so they do not change when the domain does.
 * ItemAdded exists in two versions to prove upcasting on read: version 1 named the item `name`
 * and had no quantity.
 */
const itemAddedV1 = defineEvent({
  type: 'test.ItemAdded',
  schema: z.object({ name: z.string().min(1) }),
});

const itemAddedV2 = defineEvent({
  type: 'test.ItemAdded',
  version: 2,
  schema: z.object({ item: z.string().min(1), quantity: z.number().int().positive() }),
  upcasters: { 1: (v1: { name: string }) => ({ item: v1.name, quantity: 1 }) },
});

const itemRemoved = defineEvent({
  type: 'test.ItemRemoved',
  schema: z.object({ item: z.string().min(1), reason: z.string().default('unspecified') }),
});

const noted = defineEvent({
  type: 'test.Noted',
  schema: z.object({ text: z.string(), tags: z.array(z.string()).optional() }),
});

/** What DS01 writes today. */
export const testCatalog = new EventCatalog([itemAddedV2, itemRemoved, noted]);
/** What an older DS01 wrote: ItemAdded at version 1. */
export const testCatalogV1 = new EventCatalog([itemAddedV1, itemRemoved, noted]);

export function metadata(overrides: Partial<NewEvent['metadata']> = {}): NewEvent['metadata'] {
  return {
    eventId: randomUUID(),
    occurredAt: '2025-03-01T12:00:00.000Z',
    actor: { kind: 'service', name: 'contract-test' },
    host: 'test-host',
    correlationId: randomUUID(),
    causationId: null,
    ...overrides,
  };
}

export function itemAdded(item: string, quantity = 1): NewEvent {
  return { type: 'test.ItemAdded', data: { item, quantity }, metadata: metadata() };
}

export function noteEvent(text: string): NewEvent {
  return { type: 'test.Noted', data: { text }, metadata: metadata() };
}

export function removed(item: string): NewEvent {
  return { type: 'test.ItemRemoved', data: { item }, metadata: metadata() };
}
