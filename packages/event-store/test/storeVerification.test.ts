import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { copyStoreFile, SqliteEventStore, verifyStoreFile } from '../src/index.ts';
import { itemAdded, metadata, testCatalog, testCatalogV1 } from './contract/testCatalog.ts';
import { useTempFolder } from './faults/tempFolder.ts';

const file = useTempFolder('verify');

/** A log written by an older DS01 (ItemAdded v1) and then by this one (v2). */
async function mixedVersionsStore(name: string): Promise<string> {
  const path = file(name);
  const old = new SqliteEventStore({ path, codec: testCatalogV1 });
  await old.append('cart-1', [{ type: 'test.ItemAdded', data: { name: 'legacy' }, metadata: metadata() }]);
  await old.close();
  const current = new SqliteEventStore({ path, codec: testCatalog });
  await current.append('cart-1', [itemAdded('modern', 2)]);
  await current.close();
  return path;
}

function run(path: string, sql: string): void {
  const db = new DatabaseSync(path);
  db.exec(sql);
  db.close();
}

describe('verifyStoreFile', () => {
  it('reads older versions through their upcasters: a mixed log is clean', async () => {
    const path = await mixedVersionsStore('mixed.db');
    const progress: number[][] = [];
    const result = await verifyStoreFile(path, testCatalog, { onProgress: (...p) => progress.push(p) });
    expect(result).toMatchObject({ events: 2, head: 2, findings: [] });
    expect(progress).toEqual([[2, 2, 2]]);
  });

  it('finds old data its upcaster turns into something the current schema refuses, and a newer version', async () => {
    const path = await mixedVersionsStore('upcast.db');
    run(
      path,
      `UPDATE events SET data = '{"name": ""}' WHERE position = 1; UPDATE events SET version = 3 WHERE position = 2`,
    );
    const { findings } = await verifyStoreFile(path, testCatalog);
    expect(findings).toEqual([
      expect.objectContaining({
        kind: 'schema',
        position: 1,
        streamId: 'cart-1',
        problem: expect.stringMatching(/^test\.ItemAdded v1: .*item/),
      }),
      expect.objectContaining({
        kind: 'schema',
        position: 2,
        problem: expect.stringMatching(/version 3 by a newer DS01/),
      }),
    ]);
  });

  it('a copy made by copyStoreFile verifies like its source', async () => {
    const path = await mixedVersionsStore('source.db');
    const copy = copyStoreFile(path, file('copy.db'));
    expect(copy).toMatchObject({ events: 2, head: 2 });
    expect((await verifyStoreFile(copy.path, testCatalog)).findings).toEqual([]);
  });
});
