// A large append goes to the SQLite store's writer thread in parts, validated one part at a time
// while the thread inserts the previous one (SqliteEventStore #appendStreamed). These check that it
// keeps the guarantees of a whole append: all or nothing, expected revision, idempotent retries, the
// order of appends, and that the store goes on afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  EventIdConflictError,
  EventSchemaError,
  SqliteEventStore,
  WrongExpectedRevisionError,
} from '../src/index.ts';
import { collect } from './contract/eventStoreContract.ts';
import { itemAdded, noteEvent, testCatalog } from './contract/testCatalog.ts';

const folder = mkdtempSync(join(tmpdir(), 'ds01-sqlite-streamed-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
let store: SqliteEventStore;
let n = 0;
function open(): SqliteEventStore {
  store = new SqliteEventStore({ path: join(folder, `${n++}.sqlite`), codec: testCatalog });
  return store;
}
afterEach(() => store.close());

/** More events than one part (50), and not a multiple of it. */
const items = (count: number, prefix = 'i') =>
  Array.from({ length: count }, (_, i) => itemAdded(`${prefix}${i}`));

describe('SQLite store: a large append sent in parts', () => {
  it('is written whole, in order, with one revision after another', async () => {
    const s = open();
    const result = await s.append('cart-1', items(137));
    expect(result).toMatchObject({ nextExpectedRevision: 136, position: 137 });
    const read = await collect(s.readStream('cart-1'));
    expect(read.map((e) => (e.data as { item: string }).item)).toEqual(items(137).map((_, i) => `i${i}`));
    expect(read.map((e) => e.revision)).toEqual([...Array(137).keys()]);
  });

  it('an event of a later part that fails its schema leaves nothing written; the store goes on', async () => {
    const s = open();
    await s.append('cart-1', [itemAdded('first')]);
    const events = items(130);
    events[101] = { ...itemAdded('bad'), data: { item: 'bad', quantity: -1 } };
    const error = await s.append('cart-1', events).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventSchemaError);
    expect(error).toMatchObject({ eventType: 'test.ItemAdded', field: 'quantity' });
    expect(await s.countEvents()).toBe(1);
    expect(await s.append('cart-1', items(60, 'next'))).toMatchObject({ nextExpectedRevision: 60 });
    expect(await s.countEvents()).toBe(61);
  });

  it('checks the expected revision: a stale one is refused and writes nothing', async () => {
    const s = open();
    await s.append('cart-1', items(3));
    const error = await s
      .append('cart-1', items(120, 'late'), { expectedRevision: 0 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WrongExpectedRevisionError);
    expect(error).toMatchObject({ streamId: 'cart-1', expected: 0, actual: 2 });
    expect(await s.countEvents()).toBe(3);
    await expect(s.append('cart-1', items(120, 'ok'), { expectedRevision: 2 })).resolves.toMatchObject({
      nextExpectedRevision: 122,
    });
  });

  it('a retry of the same append succeeds whatever it expected; a changed payload under a used id conflicts', async () => {
    const s = open();
    const events = items(120);
    const first = await s.append('cart-1', events, { expectedRevision: 'no_stream' });
    expect(await s.append('cart-1', events, { expectedRevision: 'no_stream' })).toEqual(first);
    expect(await s.countEvents()).toBe(120);
    const changed = [...events];
    changed[90] = { ...events[90]!, data: { item: 'other', quantity: 9 } };
    await expect(s.append('cart-1', changed)).rejects.toBeInstanceOf(EventIdConflictError);
    expect(await s.countEvents()).toBe(120);
  });

  it('keeps the order of appends asked together: small ones around a large one', async () => {
    const s = open();
    const results = await Promise.all([
      s.append('a', [noteEvent('before')]),
      s.append('b', items(175)),
      s.append('a', [noteEvent('after')]),
      s.append('c', items(51)),
    ]);
    expect(results.map((r) => r.position)).toEqual([1, 176, 177, 228]);
    const all = await collect(s.readAll());
    expect(all.map((e) => e.streamId)).toEqual(['a', ...Array(175).fill('b'), 'a', ...Array(51).fill('c')]);
  });
});
