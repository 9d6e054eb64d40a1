import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { UserRegistered } from '@ds01/domain';
import { openProjectionsDb, writeCheckpoint } from '@ds01/projections';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { damage, newDataDir, runDs01, storeWithUsers, userEvent } from './support/ds01Cli.ts';

let root: string;
let backup: string;
let dataDirs = 0;

beforeAll(async () => {
  root = newDataDir();
  const seed = join(root, 'seed');
  mkdirSync(seed);
  const store = await storeWithUsers(seed, 10);
  await store.close();
  backup = join(root, 'events-backup.db');
  const written = await runDs01(seed, ['store', 'backup', backup]);
  expect(written.code).toBe(0);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * A data dir as a ds01d killed -9 leaves it: a store holding the backup's 20 events plus 5 more that
 * are still only in its -wal, and read models built on it.
 */
async function liveDataDir(): Promise<string> {
  const running = join(root, `running-${++dataDirs}`);
  const dir = join(root, `data-${dataDirs}`);
  mkdirSync(running);
  mkdirSync(dir);
  copyFileSync(backup, join(running, 'events.db'));
  const store = await storeWithUsers(running, 0);
  for (let i = 0; i < 5; i++) {
    await store.append(`user-late${i}`, [
      userEvent(UserRegistered({ user: `late${i}`, uid: 9000 + i, group: 'staff' })),
    ]);
  }
  // Copied while the store is open: what a crash leaves on disk (closing would fold the -wal in).
  for (const suffix of ['', '-wal'])
    copyFileSync(join(running, `events.db${suffix}`), join(dir, `events.db${suffix}`));
  await store.close();
  const projections = openProjectionsDb(join(dir, 'projections.db'));
  writeCheckpoint(projections, { projection: 'users', position: 25, version: 1, error: null });
  projections.close();
  return dir;
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function count(path: string): number {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('ds01 store restore', () => {
  it('verifies the backup, keeps the old log aside, replaces it and removes the read models', async () => {
    const dir = await liveDataDir();
    expect(statSync(join(dir, 'events.db-wal')).size).toBeGreaterThan(0);
    const { code, stdout, stderr } = await runDs01(dir, ['store', 'restore', backup]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^restored:\s+.*events\.db from .*events-backup\.db\nevents:\s+20\nhead position:\s+20\n/,
    );
    expect(stdout).toMatch(/old store kept as:\s+.*events\.db\.before-restore-\d{4}-\d\d-\d\dT/);
    expect(stdout).toMatch(
      /projections:\s+.*projections\.db removed: ds01d rebuilds the read models from the restored log/,
    );

    expect(count(join(dir, 'events.db'))).toBe(20);
    const aside = readdirSync(dir).filter((name) => name.startsWith('events.db.before-restore-'));
    expect(aside.filter((name) => !name.endsWith('-wal') && !name.endsWith('-shm'))).toHaveLength(1);
    expect(count(join(dir, aside.find((name) => !name.endsWith('-wal') && !name.endsWith('-shm'))!))).toBe(
      25,
    );
    expect(existsSync(join(dir, 'projections.db'))).toBe(false);
    expect(existsSync(join(dir, 'events.db-wal'))).toBe(false);
    const verified = await runDs01(dir, ['store', 'verify']);
    expect(verified.code).toBe(0);
  });

  it('--json says what it did', async () => {
    const dir = await liveDataDir();
    const { code, stdout } = await runDs01(dir, ['store', 'restore', backup, '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      events: 20,
      headPosition: 20,
      previousStoreKeptAs: expect.stringMatching(/events\.db\.before-restore-/),
      projectionsRemoved: true,
    });
  });

  describe('refuses, and changes nothing,', () => {
    let dir: string;
    let before: string;

    beforeAll(async () => {
      dir = await liveDataDir();
      before = sha256(join(dir, 'events.db'));
    });

    async function refused(src: string, pattern: RegExp): Promise<void> {
      const { code, stdout, stderr } = await runDs01(dir, ['store', 'restore', src]);
      expect(stderr).toMatch(pattern);
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(sha256(join(dir, 'events.db'))).toBe(before);
      expect(existsSync(join(dir, 'projections.db'))).toBe(true);
      expect(
        readdirSync(dir).filter((name) => name.includes('before-restore') || name.includes('restoring')),
      ).toEqual([]);
    }

    it('while a ds01d runs on the data dir', async () => {
      // A live process named ds01d holding the pid lock, as the daemon's own lock check sees one.
      const daemon: ChildProcess = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'ds01d'], {
        stdio: 'ignore',
      });
      try {
        writeFileSync(join(dir, 'ds01d.pid'), `${daemon.pid}\n`);
        await refused(
          backup,
          new RegExp(
            `ds01d \\(pid ${daemon.pid}\\) is running on .*: nothing was restored\\nhint: stop it first`,
          ),
        );
      } finally {
        daemon.kill();
        rmSync(join(dir, 'ds01d.pid'), { force: true });
      }
    });

    it('when SRC does not exist', async () => {
      await refused(
        join(root, 'missing.db'),
        /backup .*missing\.db does not exist .*nothing was restored\nhint: give the path of a file written by `ds01 store backup`/,
      );
    });

    it('when SRC is not a DS01 store', async () => {
      const garbage = join(root, 'garbage.db');
      writeFileSync(garbage, 'not a database at all, just some text that is long enough '.repeat(10));
      await refused(
        garbage,
        /cannot restore from .*garbage\.db: it is not an SQLite database .*nothing was replaced/,
      );
      const foreign = join(root, 'foreign.db');
      const db = new DatabaseSync(foreign);
      db.exec('CREATE TABLE recipes (name TEXT)');
      db.close();
      await refused(
        foreign,
        /cannot restore from .*foreign\.db: it is an SQLite database of another application.*nothing was replaced/,
      );
    });

    it('when SRC is damaged', async () => {
      const damaged = join(root, 'damaged.db');
      copyFileSync(backup, damaged);
      damage(damaged, 'DELETE FROM events WHERE position = 4');
      await refused(
        damaged,
        /cannot restore from .*damaged\.db: it is damaged \(1 finding, first: position-gap at position 5, user-user2: position 4 is missing.*nothing was replaced\nhint: see every finding with `ds01 store verify --file/,
      );
    });
  });
});
