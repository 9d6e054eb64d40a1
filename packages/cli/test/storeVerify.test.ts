import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openProjectionsDb, writeCheckpoint } from '@ds01/projections';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { damage, newDataDir, runDs01, storeWithUsers } from './support/ds01Cli.ts';

let dataDir: string;
let pristine: string;
const USERS = 40;

beforeAll(async () => {
  dataDir = newDataDir();
  const store = await storeWithUsers(dataDir, USERS);
  await store.close();
  pristine = join(dataDir, 'events.db');
});

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** A copy of the clean store, damaged by `sql`, in a data dir of its own. */
function damagedCopy(name: string, sql: string): string {
  const dir = join(dataDir, name);
  mkdirSync(dir);
  copyFileSync(pristine, join(dir, 'events.db'));
  damage(join(dir, 'events.db'), sql);
  return dir;
}

interface JsonReport {
  events: number;
  headPosition: number;
  ok: boolean;
  findings: { kind: string; position: number | null; streamId: string | null; problem: string }[];
}

async function verifyJson(dir: string): Promise<{ code: number; report: JsonReport }> {
  const { code, stdout } = await runDs01(dir, ['store', 'verify', '--json']);
  return { code, report: JSON.parse(stdout) as JsonReport };
}

describe('ds01 store verify', () => {
  it('passes a clean log: exit 0 and a summary line', async () => {
    const { code, stdout, stderr } = await runDs01(dataDir, ['store', 'verify']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ok: 80 events, head 80: positions without holes, streams contiguous/);
    const { report } = await verifyJson(dataDir);
    expect(report).toMatchObject({ events: 80, headPosition: 80, ok: true, findings: [] });
  });

  it('finds a hole in the global positions (an event deleted)', async () => {
    const dir = damagedCopy('hole', 'DELETE FROM events WHERE position IN (10, 11)');
    const { code, stdout, stderr } = await runDs01(dir, ['store', 'verify']);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^KIND\s+POSITION\s+STREAM\s+PROBLEM$/m);
    expect(stdout).toMatch(/position-gap\s+12\s+\S+\s+positions 10\.\.11 are missing \(2 events\)/);
    expect(stdout).toMatch(/finding.* in .*events\.db \(78 events, head 80\)/);
    expect(stderr).toMatch(/ds01: .*events\.db: \d+ findings? in the log\nhint: restore the newest backup/);
  });

  it('finds a stream whose revisions are not contiguous', async () => {
    const dir = damagedCopy(
      'revision',
      "UPDATE events SET revision = 5 WHERE stream_id = 'user-user3' AND revision = 1",
    );
    const { code, report } = await verifyJson(dir);
    expect(code).toBe(1);
    expect(report.findings).toEqual([
      expect.objectContaining({
        kind: 'revision-gap',
        streamId: 'user-user3',
        problem: 'revision 5 follows revision 0: revisions 1..4 are missing',
      }),
    ]);
  });

  it('finds data that fails its catalog schema, and data that is not JSON', async () => {
    const dir = damagedCopy(
      'schema',
      `UPDATE events SET data = json_set(data, '$.uid', -1) WHERE position = 3;
       UPDATE events SET data = '{"user": ' WHERE position = 4;
       UPDATE events SET type = 'NoSuchEvent' WHERE position = 5`,
    );
    const { code, report } = await verifyJson(dir);
    expect(code).toBe(1);
    expect(report.findings.map((f) => [f.kind, f.position])).toEqual([
      ['schema', 3],
      ['schema', 4],
      ['schema', 5],
    ]);
    expect(report.findings[0]!.problem).toMatch(/^UserRegistered v\d+: .*uid/);
    expect(report.findings[1]!.problem).toMatch(/data is not JSON/);
    expect(report.findings[2]!.problem).toMatch(/NoSuchEvent.*not a known event type/);
  });

  it('finds invalid metadata and metadata naming another event', async () => {
    const dir = damagedCopy(
      'metadata',
      `UPDATE events SET metadata = json_set(metadata, '$.actor.kind', 'robot') WHERE position = 7;
       UPDATE events SET event_id = '00000000-0000-4000-8000-000000000000' WHERE position = 8`,
    );
    const { code, report } = await verifyJson(dir);
    expect(code).toBe(1);
    expect(report.findings).toEqual([
      expect.objectContaining({
        kind: 'metadata',
        position: 7,
        problem: expect.stringMatching(/actor\.kind/),
      }),
      expect.objectContaining({
        kind: 'metadata',
        position: 8,
        problem: expect.stringMatching(/the row is event 00000000-0000-4000-8000-000000000000/),
      }),
    ]);
  });

  it("reports SQLite's own integrity check", async () => {
    const dir = damagedCopy(
      'integrity',
      `PRAGMA writable_schema = ON;
       UPDATE sqlite_schema SET sql = 'CREATE UNIQUE INDEX events_event_id ON events (data)'
         WHERE name = 'events_event_id'`,
    );
    const { code, report } = await verifyJson(dir);
    expect(code).toBe(1);
    expect(report.findings[0]).toMatchObject({ kind: 'integrity', position: null });
    expect(report.findings[0]!.problem).toMatch(/missing from index events_event_id/);
  });

  it('finds a projection checkpoint past the head of the log', async () => {
    const dir = damagedCopy('checkpoint', 'DELETE FROM events WHERE position > 60');
    const db = openProjectionsDb(join(dir, 'projections.db'));
    writeCheckpoint(db, { projection: 'users', position: 80, version: 1, error: null });
    writeCheckpoint(db, { projection: 'containers', position: 60, version: 1, error: null });
    db.close();
    const { code, report } = await verifyJson(dir);
    expect(code).toBe(1);
    expect(report.findings).toEqual([
      expect.objectContaining({
        kind: 'checkpoint-ahead',
        position: 80,
        problem: expect.stringMatching(/projection users has read to position 80, past the log's head 60/),
      }),
    ]);
  });

  it('shows its progress on a large log', async () => {
    const dir = damagedCopy(
      'large',
      `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 25000)
       INSERT INTO events (stream_id, revision, event_id, type, version, data, metadata)
       SELECT 'user-bulk', x - 1, printf('%08x-0000-4000-8000-000000000000', x), type, version, data,
              json_set(metadata, '$.eventId', printf('%08x-0000-4000-8000-000000000000', x))
       FROM n, (SELECT type, version, data, metadata FROM events WHERE position = 1)`,
    );
    const { code, stdout, stderr } = await runDs01(dir, ['store', 'verify']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ok: 25,080 events, head 25080/);
    expect(stderr).toMatch(
      /^verify: \d+% [\d,]+ events, [\d,]+ events\/s\n(.*\n)*verify: done, 25080 events in/,
    );
  }, 60_000);

  it('checks a backup file with --file, and says plainly when it is not a store', async () => {
    const file = join(dataDir, 'hole', 'events.db');
    expect((await runDs01(dataDir, ['store', 'verify', '--file', file])).code).toBe(1);
    const missing = await runDs01(dataDir, ['store', 'verify', '--file', join(dataDir, 'nope.db')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.db: does not exist/);
  });
});
