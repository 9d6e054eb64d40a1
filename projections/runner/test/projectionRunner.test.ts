import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { PolicyChanged, UserRegistered } from '@ds01/domain';
import type { SqliteEventStore } from '@ds01/event-store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserRow, usersProjection } from '../../users/usersProjection.ts';
import { ProjectionFailedError, ReadModelUnavailableError, UnknownProjectionError } from '../errors.ts';
import type { Projection } from '../projection.ts';
import { type ProgressReport, ProjectionRunner } from '../projectionRunner.ts';
import { openProjectionsDb, readCheckpoint } from '../projectionsDb.ts';
import { ReadModel } from '../readModel.ts';
import {
  appendUserChurn,
  dumpTables,
  eventCountsProjection,
  newEvent,
  openStore,
  tempDir,
} from './support.ts';

let dir: ReturnType<typeof tempDir>;
let store: SqliteEventStore;
let db: DatabaseSync;
const runners: ProjectionRunner[] = [];

function runner(projections: readonly Projection[], batchSize = 1000): ProjectionRunner {
  const created = new ProjectionRunner({ store, db, projections, batchSize });
  runners.push(created);
  return created;
}

beforeEach(() => {
  dir = tempDir();
  store = openStore(dir.path);
  db = openProjectionsDb(join(dir.path, 'projections.db'));
});

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
  db.close();
  await store.close();
  dir.remove();
});

describe('projection runner: catch-up', () => {
  it('applies the log in batches and writes the checkpoint with them', async () => {
    await appendUserChurn(store, 250);
    const reports: ProgressReport[] = [];
    const projections = runner([usersProjection, eventCountsProjection], 40);
    projections.prepare();
    await projections.catchUp({ onProgress: (r) => reports.push(r) });

    const head = await store.headPosition();
    expect(readCheckpoint(db, 'users')).toMatchObject({ position: head, version: 1, error: null });
    expect(readCheckpoint(db, 'event_counts')).toMatchObject({ position: head });
    const total = db.prepare('SELECT sum(n) AS n FROM event_counts').get() as { n: number };
    expect(total.n).toBe(250);
    // 250 events in batches of 40: 7 batches for each projection, the last one short.
    expect(reports.filter((r) => r.projection === 'users').map((r) => r.applied)).toEqual([
      40, 80, 120, 160, 200, 240, 250,
    ]);
    expect(reports.at(-1)).toMatchObject({ projection: 'event_counts', done: head, total: head });
  });

  it('moves a filtered projection checkpoint to the head even when the last events are not its own', async () => {
    await appendUserChurn(store, 5);
    await store.append('policy', [
      newEvent(PolicyChanged({ file: 'resource-limits.yaml', sha256: 'a'.repeat(64), diff: [] })),
    ]);
    const projections = runner([usersProjection]);
    projections.prepare();
    await projections.catchUp();
    expect(readCheckpoint(db, 'users')?.position).toBe(await store.headPosition());
  });

  it('resumes from the checkpoint: a second runner applies only what is new', async () => {
    await appendUserChurn(store, 30);
    const first = runner([eventCountsProjection]);
    first.prepare();
    await first.catchUp();
    await appendUserChurn(store, 12, 30);
    const second = runner([eventCountsProjection]);
    second.prepare();
    await second.catchUp();
    expect((db.prepare('SELECT sum(n) AS n FROM event_counts').get() as { n: number }).n).toBe(42);
  });

  it('rebuilds a projection whose version changed when it starts', async () => {
    await appendUserChurn(store, 20);
    const v1 = runner([eventCountsProjection]);
    await v1.start();
    await v1.stop();
    db.exec('UPDATE event_counts SET n = 999 WHERE rowid = 1'); // would survive if not rebuilt

    const v2 = runner([{ ...eventCountsProjection, version: 2 }]);
    await v2.start();
    expect((db.prepare('SELECT sum(n) AS n FROM event_counts').get() as { n: number }).n).toBe(20);
    expect(readCheckpoint(db, 'event_counts')).toMatchObject({
      version: 2,
      position: await store.headPosition(),
    });
  });

  it('refuses a projection name it does not know, naming the known ones', async () => {
    const projections = runner([usersProjection]);
    await expect(projections.rebuild(['user'])).rejects.toThrow(UnknownProjectionError);
    await expect(projections.rebuild(['user'])).rejects.toMatchObject({
      hint: expect.stringContaining('users'),
    });
  });
});

describe('projection runner: live', () => {
  it('follows the log and applies what arrives', async () => {
    const projections = runner([usersProjection, eventCountsProjection]);
    await projections.start();
    await store.append('user-zoe', [
      newEvent(UserRegistered({ user: 'zoe', uid: 4242, group: 'staff' }), '2025-05-05T05:05:05.000Z'),
    ]);
    await projections.waitFor(await store.headPosition());
    expect(
      db
        .prepare('SELECT user, uid, registered_at FROM users')
        .all()
        .map((r) => ({ ...r })),
    ).toEqual([{ user: 'zoe', uid: 4242, registered_at: '2025-05-05T05:05:05.000Z' }]);
    expect(projections.status().map((s) => s.state)).toEqual(['live', 'live']);
  });

  it('applies events that arrive together in one transaction with their checkpoint', async () => {
    // Each event records the checkpoint it sees: events of one batch all see the one before it.
    const batches: Projection = {
      name: 'batches',
      version: 1,
      description: 'test: which checkpoint each event saw',
      eventTypes: [],
      setup: (db) => db.exec('CREATE TABLE IF NOT EXISTS batches (position INTEGER, seen INTEGER)'),
      reset: (db) => db.exec('DROP TABLE IF EXISTS batches'),
      apply(db, event) {
        const seen = db.prepare("SELECT position FROM checkpoints WHERE projection = 'batches'").get() as {
          position: number;
        }; // written at 0 when the runner first saw the projection
        db.prepare('INSERT INTO batches VALUES (?, ?)').run(event.position, seen.position);
      },
    };
    const projections = runner([batches]);
    await projections.start();
    await store.append(
      'user-many',
      Array.from({ length: 50 }, (_, i) =>
        newEvent(UserRegistered({ user: `many${i}`, uid: i, group: 'g' })),
      ),
    );
    await projections.waitFor(await store.headPosition());
    await store.append('user-one', [newEvent(UserRegistered({ user: 'one', uid: 99, group: 'g' }))]);
    await projections.waitFor(await store.headPosition());
    const groups = db.prepare('SELECT seen, count(*) AS n FROM batches GROUP BY seen ORDER BY seen').all();
    expect(groups.map((g) => ({ ...g }))).toEqual([
      { seen: 0, n: 50 },
      { seen: 50, n: 1 },
    ]);
  });

  it('a rebuild yields exactly the live state (every table compared)', async () => {
    await appendUserChurn(store, 300);
    const live = runner([usersProjection, eventCountsProjection], 50);
    await live.start();
    // Events keep arriving while the runner is live: single appends and a multi-event append.
    const writer = appendUserChurn(store, 400, 300);
    await store.append('user-batch', [
      newEvent(UserRegistered({ user: 'batch1', uid: 1, group: 'g' })),
      newEvent(UserRegistered({ user: 'batch2', uid: 2, group: 'g' })),
      newEvent(UserRegistered({ user: 'batch3', uid: 3, group: 'g' })),
    ]);
    await writer;
    await live.waitFor(await store.headPosition());
    const liveState = dumpTables(db);
    expect((liveState['event_counts'] as { n: number }[]).reduce((sum, r) => sum + r.n, 0)).toBe(703);

    const reports: ProgressReport[] = [];
    await live.rebuild('all', { onProgress: (r) => reports.push(r) });
    expect(dumpTables(db)).toEqual(liveState);
    expect(reports.at(-1)).toMatchObject({ projection: 'event_counts', applied: 703 });
    // Still live after the rebuild.
    await store.append('user-late', [newEvent(UserRegistered({ user: 'late', uid: 7, group: 'g' }))]);
    await live.waitFor(await store.headPosition());
    expect(db.prepare("SELECT count(*) AS n FROM users WHERE user = 'late'").get()).toEqual({ n: 1 });
  });
});

describe('projection runner: an atomic rebuild (ds01 projections rebuild)', () => {
  it('aborted midway: the old tables and checkpoints, whole; run to its end: the new ones', async () => {
    await appendUserChurn(store, 100);
    const built = runner([usersProjection, eventCountsProjection], 50);
    built.prepare();
    await built.catchUp();
    const old = dumpTables(db);
    await appendUserChurn(store, 300, 100);

    const stop = new AbortController();
    const rebuilding = runner([usersProjection, eventCountsProjection], 50);
    const aborted = rebuilding.rebuild('all', {
      atomic: true,
      signal: stop.signal,
      // Abort after the first batch has been applied (inside the one transaction).
      onProgress: () => stop.abort(new Error('interrupted')),
    });
    await expect(aborted).rejects.toThrow('interrupted');
    expect(db.isTransaction).toBe(false);
    expect(dumpTables(db)).toEqual(old);

    await rebuilding.rebuild('all', { atomic: true });
    const head = await store.headPosition();
    expect(readCheckpoint(db, 'users')).toMatchObject({ position: head });
    expect((dumpTables(db)['event_counts'] as { n: number }[]).reduce((sum, r) => sum + r.n, 0)).toBe(400);
  });

  it('is refused on a live runner (its batches would join the transaction)', async () => {
    const live = runner([usersProjection]);
    await live.start();
    await expect(live.rebuild('all', { atomic: true })).rejects.toThrow(/not live/);
  });
});

describe('projection runner: a failing projection', () => {
  const POISON = 'user13';
  const fragile: Projection = {
    ...eventCountsProjection,
    name: 'fragile',
    setup(db) {
      db.exec('CREATE TABLE IF NOT EXISTS fragile (position INTEGER PRIMARY KEY)');
    },
    reset(db) {
      db.exec('DROP TABLE IF EXISTS fragile');
    },
    apply(db, event) {
      if ((event.data as { user?: string }).user === POISON) throw new Error('cannot handle user13');
      db.prepare('INSERT INTO fragile (position) VALUES (?)').run(event.position);
    },
  };

  it('stops before the failing event, naming it, while the other projections go on', async () => {
    await appendUserChurn(store, 40); // user13 is event 14 (position 14)
    const projections = runner([fragile, usersProjection], 10);
    await projections.start();

    const [fragileStatus, usersStatus] = projections.status();
    expect(fragileStatus?.state).toBe('failed');
    const error = fragileStatus?.error;
    expect(error).toBeInstanceOf(ProjectionFailedError);
    expect(error).toMatchObject({
      projection: 'fragile',
      position: 14,
      eventType: 'UserRegistered',
      streamId: 'user-user13',
    });
    expect(error?.message).toContain('cannot handle user13');
    // Everything before the event is applied and committed with the checkpoint; nothing after.
    expect(readCheckpoint(db, 'fragile')).toMatchObject({ position: 13, error: error?.message });
    expect(db.prepare('SELECT max(position) AS last, count(*) AS n FROM fragile').get()).toEqual({
      last: 13,
      n: 13,
    });

    expect(usersStatus?.state).toBe('live');
    await store.append('user-next', [newEvent(UserRegistered({ user: 'next', uid: 5, group: 'g' }))]);
    await projections.waitFor(await store.headPosition());
    expect(db.prepare("SELECT count(*) AS n FROM users WHERE user = 'next'").get()).toEqual({ n: 1 });
    expect(projections.status()[0]?.position).toBe(13);
  });

  it('a projection that applies whole batches fails the same way: before the event, the earlier ones kept', async () => {
    await appendUserChurn(store, 40);
    const batched: Projection = {
      ...fragile,
      applyBatch(db, events) {
        for (const event of events) fragile.apply(db, event);
      },
    };
    const projections = runner([batched], 10);
    await projections.start();
    expect(projections.status()[0]).toMatchObject({ state: 'failed', position: 13 });
    expect(projections.status()[0]?.error).toMatchObject({ position: 14, streamId: 'user-user13' });
    expect(db.prepare('SELECT max(position) AS last, count(*) AS n FROM fragile').get()).toEqual({
      last: 13,
      n: 13,
    });
  });

  it('tries again on the next start (a fixed projection resumes from its checkpoint)', async () => {
    await appendUserChurn(store, 20);
    const broken = runner([fragile], 10);
    await broken.start();
    expect(broken.status()[0]?.state).toBe('failed');
    await broken.stop();

    const fixed = runner([
      { ...fragile, apply: (db, e) => void db.prepare('INSERT INTO fragile VALUES (?)').run(e.position) },
    ]);
    await fixed.start();
    expect(fixed.status()[0]).toMatchObject({ state: 'live', position: 20 });
    expect(db.prepare('SELECT count(*) AS n FROM fragile').get()).toEqual({ n: 20 });
    expect(readCheckpoint(db, 'fragile')?.error).toBeNull();
  });
});

describe('projections database', () => {
  it('is created 0640 and readable through ReadModel, whose rows are validated', async () => {
    await appendUserChurn(store, 4); // user2's event is a departure without a registration
    const projections = runner([usersProjection]);
    await projections.start();
    const path = join(dir.path, 'projections.db');
    expect(statSync(path).mode & 0o777).toBe(0o640);
    const readModel = new ReadModel(path);
    try {
      expect(readModel.query(UserRow, 'SELECT * FROM users ORDER BY user').map((u) => u.user)).toEqual([
        'user0',
        'user1',
        'user3',
      ]);
      expect(readModel.checkpoint('users')?.position).toBe(4);
      expect(() => readModel.query(UserRow, 'SELECT user FROM users')).toThrow(
        /does not fit its schema at 'uid'/,
      );
    } finally {
      readModel.close();
    }
  });

  it('refuses readers an SQLite file that is not DS01 projections, and a missing one', () => {
    const foreign = join(dir.path, 'foreign.db');
    const other = openProjectionsDb(foreign);
    other.exec('PRAGMA application_id = 7; CREATE TABLE notes (x)');
    other.close();
    expect(() => new ReadModel(foreign)).toThrow(ReadModelUnavailableError);
    expect(() => new ReadModel(join(dir.path, 'absent.db'))).toThrow(/ds01 projections rebuild --all/);
    const empty = new ReadModel(join(dir.path, 'projections.db'));
    try {
      expect(() => empty.query(UserRow, 'SELECT * FROM users')).toThrow(
        /has no table users yet: the projection never ran here/,
      );
    } finally {
      empty.close();
    }
  });
});
