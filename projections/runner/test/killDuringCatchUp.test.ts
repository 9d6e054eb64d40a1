import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ProjectionRunner } from '../projectionRunner.ts';
import { openProjectionsDb, readCheckpoint } from '../projectionsDb.ts';
import {
  appendBulk,
  dumpTables,
  eventCountsProjection,
  openStore,
  slowCountsProjection,
  tempDir,
} from './support.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'catchUp.ts');
const projections = [slowCountsProjection, eventCountsProjection];
let dir: ReturnType<typeof tempDir>;

beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.remove());

/** Starts the catch-up in a child process and kills it (SIGKILL) after `batches` committed batches. */
async function killAfter(batches: number): Promise<void> {
  const child = spawn(process.execPath, [FIXTURE, dir.path], { stdio: ['ignore', 'pipe', 'inherit'] });
  let seen = 0;
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      seen = output.split('\n').filter((line) => line.startsWith('batch ')).length;
      if (seen >= batches && child.exitCode === null) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) =>
      signal === 'SIGKILL'
        ? resolve()
        : reject(new Error(`child ended (${code}) before the kill:\n${output}`)),
    );
  });
}

/** Sum of the counts each projection holds, and its checkpoint. */
function appliedAndCheckpoint(db: DatabaseSync, table: string, projection: string) {
  const applied = (db.prepare(`SELECT coalesce(sum(n), 0) AS n FROM ${table}`).get() as { n: number }).n;
  return { applied, position: readCheckpoint(db, projection)?.position ?? 0 };
}

it('kill -9 in the middle of a catch-up: no batch half-applied, and the restart equals a rebuild', async () => {
  const store = openStore(dir.path);
  await appendBulk(store, 3000);
  const head = await store.headPosition();

  await killAfter(12);

  // Right after the kill: each projection holds exactly the events up to its checkpoint.
  const path = join(dir.path, 'projections.db');
  const db = openProjectionsDb(path);
  const slow = appliedAndCheckpoint(db, 'slow_counts', 'slow_counts');
  expect(slow.position).toBeGreaterThan(0);
  expect(slow.position).toBeLessThan(head);
  expect(slow.applied).toBe(slow.position); // positions are dense here: one event per position

  // Restart: catch up from the checkpoints.
  const restarted = new ProjectionRunner({ store, db, projections, batchSize: 50 });
  restarted.prepare();
  await restarted.catchUp();
  const afterRestart = dumpTables(db);
  expect(appliedAndCheckpoint(db, 'slow_counts', 'slow_counts')).toEqual({ applied: 3000, position: head });

  // A rebuild into a fresh database from position 0 gives the same tables.
  const freshDb = openProjectionsDb(join(dir.path, 'fresh.db'));
  const fresh = new ProjectionRunner({ store, db: freshDb, projections, batchSize: 1000 });
  await fresh.rebuild('all');
  expect(afterRestart).toEqual(dumpTables(freshDb));

  freshDb.close();
  db.close();
  await store.close();
});
