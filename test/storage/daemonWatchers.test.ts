import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerStream, eventCatalog } from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanupTestRun, createTestContainer, describeWithDocker } from '../support/docker.ts';
import { type Ds01dProcess, labConfigDir, ready, startDs01d } from '../support/ds01d.ts';
import { describeOnSmallFilesystem, SmallFilesystem } from '../support/smallFilesystem.ts';

/**
 * ds01d as a real process, its data dir on a real 16 MiB tmpfs, watching the test dockerd: while
 * the disk is full it keeps running, and what Docker did meanwhile is on the log exactly once when
 * space returns; on a data dir that turned read-only it refuses to start, saying what to do, and
 * catches up once the disk is writable again.
 */
describeWithDocker('ds01d on a full or read-only disk', (td) => {
  describeOnSmallFilesystem('ds01d on a full or read-only disk', () => {
    let disk: SmallFilesystem;
    let folder: string;
    let dataDir: string;
    let configDir: string;
    let daemon: Ds01dProcess | undefined;
    const start = () => startDs01d({ dataDir, configDir, dockerHost: td.host });

    beforeAll(() => {
      disk = SmallFilesystem.mount();
      folder = mkdtempSync(join(tmpdir(), 'ds01-storage-daemon-'));
      dataDir = join(disk.dir, 'data');
      mkdirSync(dataDir);
      configDir = labConfigDir(join(folder, 'config'), { host: 'gpu01' });
    });
    afterAll(async () => {
      await daemon?.stop();
      await cleanupTestRun(td);
      disk?.unmount();
      rmSync(folder, { recursive: true, force: true });
    });

    /** Each container's stream, as event types, once they all hold `wanted` (read with the disk writable). */
    async function streamsOnceThere(ids: readonly string[], wanted: readonly string[], what: string) {
      const store = new SqliteEventStore({ path: join(dataDir, 'events.db'), codec: eventCatalog });
      try {
        const deadline = Date.now() + 60_000;
        for (;;) {
          const streams = new Map<string, string[]>();
          for (const id of ids) {
            const types: string[] = [];
            for await (const e of store.readStream(containerStream(id))) types.push(e.type);
            streams.set(id, types);
          }
          if ([...streams.values()].every((types) => wanted.every((w) => types.includes(w)))) return streams;
          if (Date.now() > deadline) {
            throw new Error(`timed out waiting for ${what}: ${JSON.stringify(Object.fromEntries(streams))}`);
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        await store.close();
      }
    }

    const count = (types: readonly string[], type: string) => types.filter((t) => t === type).length;

    it('keeps running while the disk is full; containers started meanwhile are on the log once, after', {
      timeout: 180_000,
    }, async () => {
      daemon = start();
      await daemon.waitFor(ready, 'ds01d ready');

      disk.fill();
      const running = await createTestContainer(td, { start: true });
      const exited = await createTestContainer(td, { start: true, cmd: ['sh', '-c', 'exit 3'] });
      await daemon.waitFor(
        (line) => JSON.stringify(line).includes('the disk is full'),
        'a line saying the disk is full',
      );
      // One more of the watcher's retries (their pause grows) passes while the disk stays full.
      const fullSince = daemon.lines.length;
      await daemon.waitFor(
        (line) => daemon!.lines.indexOf(line) >= fullSince && JSON.stringify(line).includes('disk is full'),
        'the watcher retrying on the full disk',
      );
      expect(daemon.child.exitCode).toBeNull();

      disk.free();
      const streams = await streamsOnceThere(
        [running.id],
        ['ContainerCreated', 'ContainerStarted'],
        'the running container on the log',
      );
      const after = await streamsOnceThere(
        [exited.id],
        ['ContainerStarted', 'ContainerStopped'],
        'the exited container on the log',
      );
      for (const types of [...streams.values(), ...after.values()]) {
        expect(count(types, 'ContainerCreated'), types.join()).toBe(1);
        expect(count(types, 'ContainerStarted'), types.join()).toBe(1);
        expect(count(types, 'ContainerStopped'), types.join()).toBeLessThanOrEqual(1);
      }
      expect(daemon.child.exitCode).toBeNull();
      // The services that retry after a store error say it once, not once per retry.
      const ownErrors = daemon.lines
        .filter((l) => l.level === 'error' && l['service'] !== 'docker-watcher')
        .map((l) => l.msg);
      expect(new Set(ownErrors).size).toBe(ownErrors.length);
      expect(await daemon.stop()).toBe(0);
    });

    it('refuses to start on a full data dir saying what to do (systemd restarts it once space is back)', {
      timeout: 120_000,
    }, async () => {
      disk.fill();
      try {
        daemon = start();
        expect(await daemon.exit).toBe(1);
        const fatal = daemon.lines.find((l) => l.level === 'fatal');
        expect(fatal?.msg).toBe(
          `ds01d could not run: the data dir ${dataDir} is on a full disk (ENOSPC writing the pid lock); ds01d changed nothing`,
        );
        expect(fatal?.['hint']).toBe(`free space on it (\`df -h ${dataDir}\`) and start ds01d again`);
      } finally {
        disk.free();
      }
      // No empty lock left behind that the next start would take for another daemon.
      expect(existsSync(join(dataDir, 'ds01d.pid'))).toBe(false);
    });

    it('refuses to start on a read-only data dir saying what to do, and catches up once it is writable', {
      timeout: 180_000,
    }, async () => {
      disk.remountReadOnly();
      let started: Awaited<ReturnType<typeof createTestContainer>>;
      try {
        started = await createTestContainer(td, { start: true });
        daemon = start();
        expect(await daemon.exit).toBe(1);
        const fatal = daemon.lines.find((l) => l.level === 'fatal');
        expect(fatal?.msg).toBe(
          `ds01d could not run: the data dir ${dataDir} is on a read-only disk (EROFS writing the pid lock); ds01d changed nothing`,
        );
        expect(fatal?.['hint']).toBe(
          `remount it read-write (\`findmnt -T ${dataDir}\`, then \`mount -o remount,rw <its mount point>\`) and start ds01d again`,
        );
      } finally {
        disk.remountReadWrite();
      }
      daemon = start();
      await daemon.waitFor(ready, 'ds01d ready');
      const streams = await streamsOnceThere(
        [started.id],
        ['ContainerCreated', 'ContainerStarted'],
        'the container started while the disk was read-only',
      );
      const types = streams.get(started.id)!;
      expect(count(types, 'ContainerStarted'), types.join()).toBe(1);
      expect(await daemon.stop()).toBe(0);
    });
  });
});
