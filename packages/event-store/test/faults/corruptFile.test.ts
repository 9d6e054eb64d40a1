import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { SqliteEventStore, StoreUnavailableError } from '../../src/index.ts';
import { itemAdded, testCatalog } from '../contract/testCatalog.ts';
import { useTempFolder } from './tempFolder.ts';

const file = useTempFolder('corrupt');

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** A real store with enough events to span many pages, closed cleanly. */
async function makeStore(path: string): Promise<void> {
  const store = new SqliteEventStore({ path, codec: testCatalog });
  for (let i = 0; i < 20; i++) {
    await store.append(
      `cart-${i}`,
      Array.from({ length: 50 }, (_, k) => itemAdded(`item-${i}-${k}`.padEnd(200, '.'))),
    );
  }
  await store.close();
}

/** Opening must fail with a clear error naming the file, and leave every byte as it was. */
function expectRefusedUnchanged(path: string, reason: RegExp): StoreUnavailableError {
  const before = sha256(path);
  let error: unknown;
  try {
    new SqliteEventStore({ path, codec: testCatalog });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(StoreUnavailableError);
  expect((error as StoreUnavailableError).location).toBe(path);
  expect((error as Error).message).toContain(path);
  expect((error as Error).message).toMatch(reason);
  expect(sha256(path)).toBe(before);
  return error as StoreUnavailableError;
}

describe('a file that is not a usable DS01 store', () => {
  it('random bytes', () => {
    const path = file('random.sqlite');
    writeFileSync(path, randomBytes(64 * 1024));
    expectRefusedUnchanged(path, /not an SQLite database.*nothing was changed/);
  });

  it('a text file', () => {
    const path = file('notes.txt');
    writeFileSync(path, 'user,gpu\nalice,0\nbob,1\n');
    expectRefusedUnchanged(path, /not an SQLite database/);
  });

  it('a file shorter than the SQLite header', () => {
    const path = file('tiny.sqlite');
    writeFileSync(path, 'SQLite');
    expectRefusedUnchanged(path, /not an SQLite database/);
  });

  it('a truncated store', async () => {
    const path = file('truncated.sqlite');
    await makeStore(path);
    const { size } = statSync(path);
    truncateSync(path, Math.floor(size / 2));
    expectRefusedUnchanged(path, /truncated.*Restore the store from a backup/);
  });

  it('a store whose pages were overwritten with garbage', async () => {
    const path = file('garbled.sqlite');
    await makeStore(path);
    const bytes = readFileSync(path);
    // Keep the 100-byte header, garble the schema page and everything after it.
    randomBytes(bytes.length - 100).copy(bytes, 100);
    writeFileSync(path, bytes);
    expectRefusedUnchanged(path, /corrupted|not a DS01 store|malformed/);
  });

  it("another application's SQLite database", () => {
    const path = file('grafana.db');
    const other = new DatabaseSync(path);
    other.exec(
      "CREATE TABLE dashboard (id INTEGER PRIMARY KEY, title TEXT); INSERT INTO dashboard (title) VALUES ('GPUs')",
    );
    other.close();
    expectRefusedUnchanged(path, /another application, not a DS01 event store; nothing was changed/);
    const reopened = new DatabaseSync(path, { readOnly: true });
    expect(reopened.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'delete' });
    reopened.close();
  });

  it('an empty file becomes a store (a new store is an empty file first)', async () => {
    const path = file('empty.sqlite');
    writeFileSync(path, '');
    const store = new SqliteEventStore({ path, codec: testCatalog });
    await store.append('cart-1', [itemAdded('a')]);
    expect(await store.countEvents()).toBe(1);
    await store.close();
  });

  it('read-only opening of a missing or empty file says what to do', () => {
    expect(
      () => new SqliteEventStore({ path: file('absent.sqlite'), codec: testCatalog, readOnly: true }),
    ).toThrow(/does not exist yet: start ds01d once/);
    const empty = file('empty-ro.sqlite');
    writeFileSync(empty, '');
    expect(() => new SqliteEventStore({ path: empty, codec: testCatalog, readOnly: true })).toThrow(
      StoreUnavailableError,
    );
  });
});
