// `revalidate: false` (what the projection runner's catch-up and rebuild read with): events stored at
// their type's current version come back as stored, without the schema's second parse; older versions
// are still upcast and validated.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { EventSchemaError, SqliteEventStore } from '../src/index.ts';
import { itemAdded, metadata, testCatalog, testCatalogV1 } from './contract/testCatalog.ts';

const folder = mkdtempSync(join(tmpdir(), 'ds01-sqlite-revalidate-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('SQLite store: reads with revalidate: false', () => {
  it('give the same events as a validating read, upcasting older versions, without parsing current ones', async () => {
    const path = join(folder, 'same.sqlite');
    const old = new SqliteEventStore({ path, codec: testCatalogV1 });
    await old.append('cart-1', [{ type: 'test.ItemAdded', data: { name: 'legacy' }, metadata: metadata() }]);
    await old.close();
    // Count the current schema's parses (the catalog validates through safeParse).
    const schema = testCatalog.definition('test.ItemAdded')!.schema;
    const parse = vi.spyOn(schema, 'safeParse');
    const store = new SqliteEventStore({ path, codec: testCatalog });
    await store.append('cart-1', [itemAdded('a', 2), itemAdded('b', 3)]);
    parse.mockClear();
    const validated = await store.readBatch({ maxCount: 10 });
    expect(parse).toHaveBeenCalledTimes(3);
    parse.mockClear();
    const stored = await store.readBatch({ maxCount: 10, revalidate: false });
    expect(stored).toEqual(validated);
    expect(stored.map((e) => e.data)).toEqual([
      { item: 'legacy', quantity: 1 },
      { item: 'a', quantity: 2 },
      { item: 'b', quantity: 3 },
    ]);
    // Only the version-1 event, upcast, went through the schema.
    expect(parse).toHaveBeenCalledTimes(1);
    parse.mockRestore();
    await store.close();
  });

  it('trade validation of what the store wrote for speed: data changed behind its back is only caught by a validating read', async () => {
    const path = join(folder, 'changed.sqlite');
    const store = new SqliteEventStore({ path, codec: testCatalog });
    await store.append('cart-1', [itemAdded('a', 2)]);
    const raw = new DatabaseSync(path);
    raw.prepare(`UPDATE events SET data = '{"item":"a","quantity":-5}'`).run();
    raw.close();
    await expect(store.readBatch({ maxCount: 10 })).rejects.toBeInstanceOf(EventSchemaError);
    const [event] = await store.readBatch({ maxCount: 10, revalidate: false });
    expect(event?.data).toEqual({ item: 'a', quantity: -5 });
    // A type the catalog does not know is refused either way.
    const raw2 = new DatabaseSync(path);
    raw2.prepare(`UPDATE events SET type = 'test.Unknown'`).run();
    raw2.close();
    await expect(store.readBatch({ maxCount: 10, revalidate: false })).rejects.toBeInstanceOf(
      EventSchemaError,
    );
    await store.close();
  });
});
