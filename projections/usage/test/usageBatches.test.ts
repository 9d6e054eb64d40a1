import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { appendSimulation } from '@ds01/simulation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectionRunner } from '../../runner/projectionRunner.ts';
import { openProjectionsDb } from '../../runner/projectionsDb.ts';
import { dumpTables, openStore, tempDir } from '../../runner/test/support.ts';
import { usageProjection } from '../usageProjection.ts';

/**
 * The usage projection sums a batch in memory (applyBatch) and writes each daily row once. However
 * the log is cut into batches, the tables must come out bit for bit what one event at a time gives
 * (what a live runner does with an event that arrives alone): that is what makes a rebuild equal the
 * live state.
 */
describe('usage projection: batches and single events give the same tables', () => {
  let dir: ReturnType<typeof tempDir>;
  const dumps = new Map<number, Record<string, unknown[]>>();

  beforeAll(async () => {
    dir = tempDir('ds01-usage-batches-');
    const store = openStore(dir.path);
    await appendSimulation(store, {
      users: 12,
      days: 2,
      seed: 5,
      start: new Date('2026-03-02T00:00:00Z'),
      host: 'sim',
    });
    for (const batchSize of [1, 7, 1000]) {
      const db: DatabaseSync = openProjectionsDb(join(dir.path, `projections-${batchSize}.db`));
      const runner = new ProjectionRunner({ store, db, projections: [usageProjection], batchSize });
      runner.prepare();
      await runner.catchUp();
      dumps.set(batchSize, dumpTables(db));
      db.close();
    }
    await store.close();
  }, 120_000);
  afterAll(() => dir.remove());

  it('has something to compare: days of usage rows with fractional sums', () => {
    const rows = dumps.get(1)!['usage_daily'] as { used_gpu_s: number; energy_j: number }[];
    expect(rows.length).toBeGreaterThan(3);
    expect(rows.some((r) => !Number.isInteger(r.used_gpu_s) && r.used_gpu_s > 0)).toBe(true);
  });

  it('batches of 7 and of 1000 equal one event per transaction, every table, exactly', () => {
    expect(dumps.get(7)).toEqual(dumps.get(1));
    expect(dumps.get(1000)).toEqual(dumps.get(1));
  });
});
