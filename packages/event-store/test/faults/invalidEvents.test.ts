import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EventSchemaError, SqliteEventStore } from '../../src/index.ts';
import { itemAdded, metadata, testCatalog } from '../contract/testCatalog.ts';
import { useTempFolder } from './tempFolder.ts';

const file = useTempFolder('invalid');

const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('events the catalog refuses', () => {
  it.each([
    ['an unknown event type', { type: 'test.Unknown', data: { item: 'a' } }, 'test.Unknown', ''],
    [
      'a field of the wrong type',
      { type: 'test.ItemAdded', data: { item: 'a', quantity: 'two' } },
      'test.ItemAdded',
      'quantity',
    ],
    ['a missing field', { type: 'test.ItemAdded', data: { quantity: 2 } }, 'test.ItemAdded', 'item'],
    ['a nested field', { type: 'test.Noted', data: { text: 'x', tags: ['ok', 7] } }, 'test.Noted', 'tags.1'],
  ])(
    '%s is refused at append, naming the field, and nothing is written',
    async (_title, event, type, field) => {
      const path = file(`${type}-${field || 'type'}.sqlite`);
      const store = new SqliteEventStore({ path, codec: testCatalog });
      await store.append('cart-1', [itemAdded('before')]);
      await store.close();
      const before = digest(path);

      const reopened = new SqliteEventStore({ path, codec: testCatalog });
      const error = await reopened
        .append('cart-1', [itemAdded('same batch'), { ...event, metadata: metadata() }])
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EventSchemaError);
      expect(error).toMatchObject({ eventType: type, field });
      if (field) expect((error as Error).message).toContain(`field '${field}'`);
      expect(await reopened.countEvents()).toBe(1);
      await reopened.close();
      expect(digest(path)).toBe(before);
    },
  );
});
