import { afterEach, describe, expect, it } from 'vitest';
import { SqliteEventStore, StoreUnavailableError } from '../../src/index.ts';
import { collect } from '../contract/eventStoreContract.ts';
import { itemAdded, testCatalog } from '../contract/testCatalog.ts';
import { type Fixture, startFixture } from './childProcess.ts';
import { useTempFolder } from './tempFolder.ts';

const file = useTempFolder('locked');

describe('a second process holds the store’s write lock', () => {
  let holder: Fixture | undefined;
  afterEach(() => {
    holder?.child.kill('SIGKILL');
  });

  it('appends fail after the busy timeout naming the file, reads go on, and appends resume once released', async () => {
    const path = file('locked.sqlite');
    const store = new SqliteEventStore({ path, codec: testCatalog, busyTimeoutMs: 300 });
    await store.append('cart-1', [itemAdded('a'), itemAdded('b')]);

    holder = startFixture('holdWriteLock', [path]);
    await holder.waitForLine((line) => line === 'locked');

    const error = await store
      .append('cart-1', [itemAdded('c')], { expectedRevision: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ location: path });
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/locked by another process.*retry/);

    // WAL: readers are not blocked, and do not see the holder's uncommitted row.
    expect((await collect(store.readStream('cart-1'))).map((e) => e.revision)).toEqual([0, 1]);
    expect(await store.countEvents()).toBe(2);
    expect(await collect(store.readAll())).toHaveLength(2);

    holder.send('release');
    await holder.waitForLine((line) => line === 'released');
    expect(await holder.exited).toBe(0);

    const result = await store.append('cart-1', [itemAdded('c')], { expectedRevision: 1 });
    expect(result.nextExpectedRevision).toBe(2);
    expect(await store.streamRevision('lock-holder')).toBe(0);
    expect(await store.countEvents()).toBe(4);
    await store.close();
  });
});
