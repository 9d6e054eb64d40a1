import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { eventCatalog } from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import { allProjections, openProjectionsDb, ProjectionRunner } from '@ds01/projections';
import type { Finding } from './finding.ts';

/**
 * Brings the live read models of a snapshot up to its log's head (what ds01d does at its next start:
 * a crash must leave checkpoints that a catch-up continues from without applying an event twice).
 */
export async function catchUpLiveCopy(dataDir: string): Promise<void> {
  await withRunner(dataDir, 'projections.db', async (runner) => {
    runner.prepare();
    await runner.catchUp();
  });
}

/** Rebuilds every read model from position 0 into `file` of the snapshot, in this process. */
export async function rebuildInto(dataDir: string, file: string): Promise<void> {
  await withRunner(dataDir, file, async (runner) => {
    runner.prepare();
    await runner.rebuild('all');
  });
}

async function withRunner(dataDir: string, file: string, work: (runner: ProjectionRunner) => Promise<void>) {
  const store = new SqliteEventStore({
    path: join(dataDir, 'events.db'),
    codec: eventCatalog,
    readOnly: true,
  });
  const db = openProjectionsDb(join(dataDir, file));
  try {
    await work(new ProjectionRunner({ store, db, projections: allProjections }));
  } finally {
    db.close();
    await store.close();
  }
}

/** Every read model table and checkpoint of `live` equals `rebuilt`'s, row by row. */
export function compareReadModels(livePath: string, rebuiltPath: string): Finding[] {
  const live = openProjectionsDb(livePath, { readOnly: true });
  const rebuilt = openProjectionsDb(rebuiltPath, { readOnly: true });
  try {
    const findings: Finding[] = [];
    const tables = new Set([...tableNames(live), ...tableNames(rebuilt)]);
    for (const table of [...tables].sort()) {
      const difference = differingRows(rows(live, table), rows(rebuilt, table));
      if (difference) findings.push({ kind: 'projection mismatch', detail: `table ${table}: ${difference}` });
    }
    const checkpoints = 'SELECT projection, position, version, error FROM checkpoints';
    const difference = differingRows(
      rows(live, 'checkpoints', checkpoints),
      rows(rebuilt, 'checkpoints', checkpoints),
    );
    if (difference) findings.push({ kind: 'projection mismatch', detail: `checkpoints: ${difference}` });
    return findings;
  } finally {
    live.close();
    rebuilt.close();
  }
}

function tableNames(db: DatabaseSync): string[] {
  return (
    db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'checkpoints'",
      )
      .all() as { name: string }[]
  ).map((r) => r.name);
}

/** The table's rows as sorted JSON lines (a missing table has none). */
function rows(db: DatabaseSync, table: string, sql = `SELECT * FROM "${table}"`): string[] {
  try {
    return db
      .prepare(sql)
      .all()
      .map((row) => JSON.stringify(row))
      .sort();
  } catch (error) {
    if (/no such table/.test((error as Error).message)) return [];
    throw error;
  }
}

function differingRows(live: string[], rebuilt: string[]): string | undefined {
  const inRebuilt = new Set(rebuilt);
  const inLive = new Set(live);
  const onlyLive = live.filter((row) => !inRebuilt.has(row));
  const onlyRebuilt = rebuilt.filter((row) => !inLive.has(row));
  if (onlyLive.length === 0 && onlyRebuilt.length === 0 && live.length === rebuilt.length) return undefined;
  return (
    `${live.length} rows live, ${rebuilt.length} rebuilt from position 0` +
    (onlyLive[0] ? `; only live: ${onlyLive[0]}` : '') +
    (onlyRebuilt[0] ? `; only rebuilt: ${onlyRebuilt[0]}` : '') +
    (onlyLive.length === 0 && onlyRebuilt.length === 0 ? '; a row is there more often in one of them' : '')
  );
}
