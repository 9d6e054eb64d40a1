import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { SqliteEventStore } from '@ds01/event-store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { usersProjection } from '../../users/usersProjection.ts';
import { ReadModelUnavailableError } from '../errors.ts';
import { ProjectionRunner } from '../projectionRunner.ts';
import {
  openProjectionsDb,
  PROJECTIONS_DB_FORMAT,
  type ProjectionsDbReplacement,
  readCheckpoint,
} from '../projectionsDb.ts';
import { ReadModel } from '../readModel.ts';
import { appendUserChurn, dumpTables, openStore, tempDir } from './support.ts';

let dir: ReturnType<typeof tempDir>;
let store: SqliteEventStore;
let path: string;

beforeEach(async () => {
  dir = tempDir();
  store = openStore(dir.path);
  path = join(dir.path, 'projections.db');
  await appendUserChurn(store, 30);
});

afterEach(async () => {
  await store.close();
  dir.remove();
});

/** Builds the users read model into `file` from the log, as ds01d would; returns its tables. */
async function build(file: string, onReplaced?: (r: ProjectionsDbReplacement) => void) {
  const db = openProjectionsDb(file, { onReplaced });
  try {
    const runner = new ProjectionRunner({ store, db, projections: [usersProjection] });
    runner.prepare();
    await runner.catchUp();
    return { tables: dumpTables(db), checkpoint: readCheckpoint(db, 'users') };
  } finally {
    db.close();
  }
}

/** Turns a built projections.db into what another DS01 version might have left. */
function rewrite(sql: string): void {
  const db = new DatabaseSync(path);
  db.exec(sql);
  db.close();
}

const unusable: [string, () => void, RegExp][] = [
  [
    'a newer DS01 version (format 2)',
    () => rewrite(`PRAGMA user_version = ${PROJECTIONS_DB_FORMAT + 1}`),
    /^was written by another DS01 version \(projections format 2; this one uses format 1\)$/,
  ],
  [
    'another layout of the checkpoints table',
    () => rewrite('ALTER TABLE checkpoints DROP COLUMN error'),
    /another DS01 version \(projections format 1, other checkpoint columns/,
  ],
  [
    'another application’s SQLite database',
    () => rewrite('PRAGMA application_id = 7'),
    /^is an SQLite database of another application, not DS01 projections$/,
  ],
  [
    'a file that is not SQLite at all',
    () => writeFileSync(path, 'garbage, not a database '.repeat(200)),
    /^is not an SQLite database \(file is not a database\)$/,
  ],
];

describe('a projections.db this DS01 cannot read', () => {
  for (const [what, make, reason] of unusable) {
    it(`${what}: never read; ds01d moves it aside and rebuilds from the log, saying so`, async () => {
      const expected = await build(join(dir.path, 'reference.db'));
      await build(path);
      make();
      const before = readFileSync(path);

      expect(() => new ReadModel(path)).toThrow(ReadModelUnavailableError);
      expect(() => new ReadModel(path)).toThrow(/nothing was read\. ds01d moves it aside and rebuilds/);

      const replaced: ProjectionsDbReplacement[] = [];
      const rebuilt = await build(path, (r) => replaced.push(r));
      expect(replaced).toEqual([{ reason: expect.stringMatching(reason), keptAs: expect.any(String) }]);
      expect(readFileSync(replaced[0]!.keptAs)).toEqual(before);
      expect(rebuilt).toEqual({
        tables: expected.tables,
        checkpoint: { ...expected.checkpoint, updatedAt: expect.any(String) },
      });
      const reader = new ReadModel(path);
      expect(reader.checkpoint('users')?.position).toBe(await store.headPosition());
      reader.close();
    });
  }

  it('keeps a projections.db of this format, and one written before the format was stamped', async () => {
    await build(path);
    rewrite('PRAGMA user_version = 0');
    const replaced: ProjectionsDbReplacement[] = [];
    const db = openProjectionsDb(path, { onReplaced: (r) => replaced.push(r) });
    expect(readCheckpoint(db, 'users')?.position).toBe(await store.headPosition());
    expect((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version).toBe(
      PROJECTIONS_DB_FORMAT,
    );
    db.close();
    expect(replaced).toEqual([]);
    expect(existsSync(`${path}.replaced`)).toBe(false);
  });
});
