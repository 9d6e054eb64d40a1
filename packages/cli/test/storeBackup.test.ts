import { execFile } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { UserRegistered } from '@ds01/domain';
import type { SqliteEventStore } from '@ds01/event-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DS01_BIN, newDataDir, ROOT, runDs01, storeWithUsers, userEvent } from './support/ds01Cli.ts';

let dataDir: string;
let store: SqliteEventStore;

beforeAll(async () => {
  dataDir = newDataDir();
  store = await storeWithUsers(dataDir, 30);
});

afterAll(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface BackupJson {
  backup: { path: string; events: number; headPosition: number; bytes: number };
  pruned: string[];
}

describe('ds01 store backup', () => {
  it('copies (and verifies) a consistent snapshot while another process keeps appending', async () => {
    let appending = true;
    let appended = 0;
    const writer = (async () => {
      while (appending) {
        const user = `busy${appended}`;
        await store.append(`user-${user}`, [
          userEvent(UserRegistered({ user, uid: 5000 + appended, group: 'staff' })),
        ]);
        appended += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    try {
      for (const name of ['online-1.db', 'online-2.db']) {
        const before = await store.headPosition();
        const { code, stdout, stderr } = await runDs01(dataDir, [
          'store',
          'backup',
          join(dataDir, name),
          '--json',
        ]);
        expect(stderr).toBe('');
        expect(code).toBe(0);
        const { backup } = JSON.parse(stdout) as BackupJson;
        expect(backup.headPosition).toBeGreaterThanOrEqual(before);
        expect(backup.events).toBe(backup.headPosition); // a snapshot: no hole, nothing half-written
        const check = await runDs01(dataDir, ['store', 'verify', '--file', backup.path]);
        expect(check.stdout).toMatch(/^ok: /);
        expect(check.code).toBe(0);
        // The live log verifies too: one snapshot, whatever is appended while it is read.
        const live = await runDs01(dataDir, ['store', 'verify']);
        expect(live.stdout).toMatch(/^ok: /);
      }
    } finally {
      appending = false;
      await writer;
    }
    expect(appended).toBeGreaterThan(0);
  }, 120_000);

  it('prints what it wrote, as 0640, with no temporary file left', async () => {
    const dest = join(dataDir, 'plain.db');
    const { code, stdout } = await runDs01(dataDir, ['store', 'backup', dest]);
    expect(code).toBe(0);
    const head = await store.headPosition();
    expect(stdout).toMatch(
      new RegExp(
        `^backup:\\s+${dest}\\nevents:\\s+[\\d,]+\\nhead position:\\s+${head}\\nsize:\\s+[\\d.]+ [KM]iB\\nchecked:\\s+integrity ok`,
      ),
    );
    expect(statSync(dest).mode & 0o777).toBe(0o640);
    expect(readdirSync(dataDir).filter((name) => name.includes('partial'))).toEqual([]);
  });

  it('writes a time-named file into a folder, and --keep removes only old DS01 backups of that name', async () => {
    const folder = join(dataDir, 'nightly');
    const first = await runDs01(dataDir, ['store', 'backup', join(dataDir, 'nightly-seed.db')]);
    expect(first.code).toBe(0);
    mkdirSync(folder);
    const old = new Date(Date.now() - 20 * 86_400_000);
    const oldBackup = join(folder, 'events-2026-01-01T00-00-00Z.db');
    const recentBackup = join(folder, 'events-2026-01-19T00-00-00Z.db');
    const notOurs = join(folder, 'events-notes.db');
    copyFileSync(join(dataDir, 'nightly-seed.db'), oldBackup);
    copyFileSync(join(dataDir, 'nightly-seed.db'), recentBackup);
    writeFileSync(notOurs, 'an admin’s notes, not a store');
    utimesSync(oldBackup, old, old);
    utimesSync(notOurs, old, old);

    const { code, stdout } = await runDs01(dataDir, ['store', 'backup', folder, '--keep', '14', '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as BackupJson;
    expect(result.backup.path).toMatch(/nightly\/events-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.db$/);
    expect(result.pruned).toEqual([oldBackup]);
    expect(readdirSync(folder).sort()).toEqual(
      ['events-2026-01-19T00-00-00Z.db', 'events-notes.db', result.backup.path.split('/').at(-1)!].sort(),
    );

    const bad = await runDs01(dataDir, ['store', 'backup', folder, '--keep', '0']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--keep.*'0' is not a whole number ≥ 1/);
  });

  it('never overwrites a file that is not a DS01 store', async () => {
    const notes = join(dataDir, 'notes.txt');
    writeFileSync(notes, 'keep me');
    const { code, stderr } = await runDs01(dataDir, ['store', 'backup', notes]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/notes\.txt exists and is not a DS01 store: it was left as it is/);
    expect(readFileSync(notes, 'utf8')).toBe('keep me');
  });

  it('names the folder when DEST cannot be written', async () => {
    const dest = join(dataDir, 'no-such-folder', 'x.db');
    const { code, stderr } = await runDs01(dataDir, ['store', 'backup', dest]);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /no-such-folder\/x\.db: cannot be written: the folder .*no-such-folder does not exist/,
    );
  });

  it("infra/systemd/ds01-backup.service's command writes tonight's backup, prunes and verifies it", async () => {
    const unit = readFileSync(join(ROOT, 'infra', 'systemd', 'ds01-backup.service'), 'utf8');
    // ExecStart as systemd hands it to the shell: continuation lines joined, $$ and %% unescaped.
    const execStart = /^ExecStart=\/bin\/sh -ec '((?:[^'])*)'$/m.exec(unit.replace(/\\\n/g, ''))![1]!;
    const script = execStart.replace(/\$\$/g, '$').replace(/%%/g, '%');
    const folder = join(dataDir, 'systemd');
    mkdirSync(folder);
    const launcher = join(dataDir, 'ds01-launcher.sh');
    writeFileSync(launcher, `#!/bin/sh\nexec "${process.execPath}" "${DS01_BIN}" "$@"\n`, { mode: 0o755 });
    const { stdout } = await promisify(execFile)('/bin/sh', ['-ec', script], {
      env: {
        ...process.env,
        DS01: launcher,
        DATA_DIR: dataDir,
        BACKUP_DIR: folder,
        KEEP_DAYS: '14',
        COLUMNS: '',
      },
    });
    const tonight = `events-${new Date().toISOString().slice(0, 10)}.db`;
    expect(readdirSync(folder)).toEqual([tonight]);
    expect(stdout).toMatch(
      new RegExp(`^backup:\\s+.*${tonight}\\n(.*\\n)*pruned:\\s+nothing older than 14 days\\nok: `),
    );
  });

  it('on PostgreSQL or EventStoreDB, says which standard tool to use and exits non-zero', async () => {
    const postgres = await runDs01(dataDir, ['store', 'backup', join(dataDir, 'pg.db')], {
      DS01_EVENTSTORE_URL: 'postgres://ds01@localhost/ds01',
    });
    expect(postgres.code).toBe(1);
    expect(postgres.stderr).toMatch(/keeps its log in PostgreSQL.*\nhint: .*pg_dump.*pg_basebackup/);
    const esdb = await runDs01(dataDir, ['store', 'backup', join(dataDir, 'esdb.db')], {
      DS01_EVENTSTORE_URL: 'kurrentdb://localhost:2113?tls=false',
    });
    expect(esdb.code).toBe(1);
    expect(esdb.stderr).toMatch(/keeps its log in EventStoreDB.*\nhint: .*file-copy backup/);
    expect(readdirSync(dataDir).filter((name) => name === 'pg.db' || name === 'esdb.db')).toEqual([]);
  });
});
