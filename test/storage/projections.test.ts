import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import type { SqliteEventStore } from '@ds01/event-store';
import {
  openProjectionsDb,
  ProjectionRunner,
  ReadModelUnavailableError,
  readCheckpoints,
} from '@ds01/projections';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import {
  appendBulk,
  dumpTables,
  eventCountsProjection,
  openStore,
  tempDir,
} from '../../projections/runner/test/support.ts';
import { describeOnSmallFilesystem, SmallFilesystem } from '../support/smallFilesystem.ts';

/**
 * The projection runner with its database (projections.db) on a real 16 MiB tmpfs and the log on
 * another disk, so that the log grows while the read models cannot: the checkpoint stays where the
 * committed read model is, nothing is applied twice or skipped, and the runner catches up by itself
 * once space returns; a database on a disk that turned read-only is refused saying so.
 */
describeOnSmallFilesystem('projections on a full or read-only disk', () => {
  let disk: SmallFilesystem;
  let logDir: ReturnType<typeof tempDir>;
  let store: SqliteEventStore;
  let db: DatabaseSync | undefined;
  let runner: ProjectionRunner | undefined;
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (_fields: object, message: string) => lines.push({ level, message });
  const logger = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
  const dbPath = () => join(disk.dir, 'projections.db');

  beforeAll(() => {
    disk = SmallFilesystem.mount(4);
    logDir = tempDir('ds01-storage-log-');
    store = openStore(logDir.path);
  });
  afterEach(async () => {
    await runner?.stop();
    db?.close();
    runner = undefined;
    db = undefined;
  });
  afterAll(async () => {
    await store?.close();
    disk?.unmount();
    logDir?.remove();
  });

  function startRunner(): Promise<void> {
    db = openProjectionsDb(dbPath());
    runner = new ProjectionRunner({
      store,
      db,
      projections: [eventCountsProjection],
      logger,
      storageRetryMs: 100,
    });
    return runner.start();
  }

  /** What a rebuild from position 0 makes of the same log, in a scratch database on a roomy disk. */
  async function rebuilt(): Promise<Record<string, unknown[]>> {
    const scratch = tempDir('ds01-storage-rebuild-');
    const scratchDb = openProjectionsDb(join(scratch.path, 'projections.db'));
    try {
      const fresh = new ProjectionRunner({ store, db: scratchDb, projections: [eventCountsProjection] });
      fresh.prepare();
      await fresh.catchUp();
      return dumpTables(scratchDb);
    } finally {
      scratchDb.close();
      scratch.remove();
    }
  }

  it('keeps its checkpoint on what it committed while full, and catches up once space is freed', {
    timeout: 120_000,
  }, async () => {
    await startRunner();
    await appendBulk(store, 200);
    await runner!.waitFor(await store.headPosition());
    const committed = runner!.status()[0]!.position;

    disk.fill();
    // Enough that the batch cannot fit in what SQLite already has of the file.
    await appendBulk(store, 3000);
    const head = await store.headPosition();
    const deadline = Date.now() + 30_000;
    while (!lines.some((l) => l.message.includes('is full')) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(lines.find((l) => l.level === 'error')?.message).toBe(
      `projection event_counts could not write its read model: the disk holding ${disk.dir} is full: free space; ` +
        'DS01 retries every 0.1 s and loses nothing',
    );
    expect(runner!.status()[0]).toMatchObject({ state: 'live', position: committed, error: undefined });
    expect(lines.filter((l) => l.level === 'error')).toHaveLength(1);

    disk.free();
    await runner!.waitFor(head);
    expect(runner!.status()[0]).toMatchObject({ state: 'live', position: head });
    expect(lines.at(-1)?.message).toMatch(
      /^projection event_counts could not write its read model: works again after \d+ failed tr(y|ies)$/,
    );
    expect(dumpTables(db!)).toEqual(await rebuilt());
    expect(readCheckpoints(db!).get('event_counts')?.position).toBe(head);
  });

  it('refuses a database on a read-only disk, saying so, and catches up once it is writable again', {
    timeout: 120_000,
  }, async () => {
    await startRunner();
    const before = runner!.status()[0]!.position;
    await runner!.stop();
    db!.close();
    db = undefined;
    runner = undefined;

    disk.remountReadOnly();
    try {
      await appendBulk(store, 100);
      let refused: unknown;
      try {
        openProjectionsDb(dbPath()).close();
      } catch (error) {
        refused = error;
      }
      expect(refused).toBeInstanceOf(ReadModelUnavailableError);
      expect((refused as Error).message).toContain(
        `projections database ${dbPath()}: is on a read-only disk`,
      );
      expect((refused as Error).message).toContain(`Remount it read-write (\`findmnt -T ${disk.dir}\``);
    } finally {
      disk.remountReadWrite();
    }
    await startRunner();
    const head = await store.headPosition();
    expect(head).toBeGreaterThan(before);
    expect(runner!.status()[0]).toMatchObject({ position: head });
    expect(dumpTables(db!)).toEqual(await rebuilt());
  });
});
