import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteEventStore } from '../../src/index.ts';
import { itemAdded, testCatalog } from '../contract/testCatalog.ts';
import { useTempFolder } from './tempFolder.ts';

const file = useTempFolder('create');

describe('a new store', () => {
  it('is created at the caller’s path: folders 0750, file 0640, whatever the umask', async () => {
    const path = file('var/lib/ds01/events.sqlite');
    const previous = process.umask(0o000);
    let store: SqliteEventStore;
    try {
      store = new SqliteEventStore({ path, codec: testCatalog });
    } finally {
      process.umask(previous);
    }
    await store.append('cart-1', [itemAdded('a')]);
    await store.close();
    expect(statSync(path).mode & 0o777).toBe(0o640);
    for (const folder of [dirname(path), dirname(dirname(path)), dirname(dirname(dirname(path)))]) {
      expect(statSync(folder).mode & 0o777, folder).toBe(0o750);
    }
  });

  it('keeps the mode of an existing file', async () => {
    const path = file('existing.sqlite');
    const store = new SqliteEventStore({ path, codec: testCatalog });
    await store.close();
    const again = new SqliteEventStore({ path, codec: testCatalog });
    await again.close();
    expect(statSync(path).mode & 0o777).toBe(0o640);
  });
});
