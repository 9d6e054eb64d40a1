import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  eventCatalog,
  GpuInventoryObserved,
  gpuInventoryStream,
  UserRegistered,
  userStream,
} from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { recordEvent } from '../../packages/allocation/test/support.ts';
import { mixedInventory } from '../../packages/domain/test/allocation/pools.ts';
import { labConfigDir, runDs01 } from '../support/ds01d.ts';
import { describeOnSmallFilesystem, SmallFilesystem } from '../support/smallFilesystem.ts';

/**
 * `ds01 gpu allocate` with the data dir on a real 16 MiB tmpfs that fills up, then turns read-only:
 * a clear error naming the file and what to do, a non-zero exit, nothing half-written, and the same
 * command works again once the admin freed space or remounted the disk.
 */
describeOnSmallFilesystem('ds01 gpu allocate on a full or read-only disk', () => {
  let disk: SmallFilesystem;
  let folder: string;
  let dataDir: string;
  let configDir: string;
  const dirs = () => ({ dataDir, configDir });
  const allocate = () => runDs01(['gpu', 'allocate', '--user', 'ana', '--count', '1', '--json'], dirs());

  beforeAll(async () => {
    disk = SmallFilesystem.mount(4);
    folder = mkdtempSync(join(tmpdir(), 'ds01-storage-cli-'));
    dataDir = join(disk.dir, 'data');
    mkdirSync(dataDir);
    configDir = labConfigDir(join(folder, 'config'), { host: 'gpu01' });
    const store = new SqliteEventStore({ path: join(dataDir, 'events.db'), codec: eventCatalog });
    await recordEvent(
      store,
      gpuInventoryStream('gpu01'),
      GpuInventoryObserved({ inventory: mixedInventory, at: new Date().toISOString() }),
    );
    await recordEvent(store, userStream('ana'), UserRegistered({ user: 'ana', uid: 2001, group: 'student' }));
    await store.close();
  });
  afterAll(() => {
    disk?.unmount();
    rmSync(folder, { recursive: true, force: true });
  });

  /** What the log holds, read with the disk writable again; and SQLite's own check of the file. */
  async function logNow(): Promise<{ events: number; granted: number; integrity: string }> {
    const store = new SqliteEventStore({ path: join(dataDir, 'events.db'), codec: eventCatalog });
    let granted = 0;
    for await (const _event of store.readAll({ filter: { eventTypes: ['GpuAllocated'] } })) granted += 1;
    const events = await store.countEvents();
    await store.close();
    const db = new DatabaseSync(join(dataDir, 'events.db'), { readOnly: true });
    const integrity = String(Object.values(db.prepare('PRAGMA integrity_check').get() ?? {})[0]);
    db.close();
    return { events, granted, integrity };
  }

  it('says the disk is full and what to do, exits 1, writes nothing, and works once space is freed', {
    timeout: 120_000,
  }, async () => {
    expect(await allocate()).toMatchObject({ code: 0 });
    const before = await logNow();
    expect(before).toMatchObject({ granted: 1, integrity: 'ok' });

    disk.fill();
    const refused = await allocate();
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe(
      `ds01: event store ${join(dataDir, 'events.db')}: cannot grow: the disk is full ` +
        '(database or disk is full); free space and retry\n',
    );
    disk.free();

    expect(await logNow()).toEqual(before);
    const again = await allocate();
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ granted: true });
    expect(await logNow()).toMatchObject({ granted: 2, integrity: 'ok' });
  });

  it('says the disk is read-only, naming the folder and the remount, and works once it is read-write', {
    timeout: 120_000,
  }, async () => {
    const before = await logNow();
    disk.remountReadOnly();
    try {
      const refused = await allocate();
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toContain(
        `ds01: event store ${join(dataDir, 'events.db')}: is on a read-only disk`,
      );
      expect(refused.stderr).toContain(
        `nothing was written. Remount it read-write (\`findmnt -T ${dataDir}\``,
      );
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      disk.remountReadWrite();
    }
    expect(await logNow()).toEqual(before);
    const again = await allocate();
    expect(again.code, again.stderr).toBe(0);
    expect(await logNow()).toMatchObject({ granted: before.granted + 1, integrity: 'ok' });
  });
});
