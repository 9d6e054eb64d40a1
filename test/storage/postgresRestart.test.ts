import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerStream, eventCatalog } from '@ds01/domain';
import { type EventStore, openEventStore } from '@ds01/event-store';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanupTestRun, createTestContainer, describeWithDocker } from '../support/docker.ts';
import { type Ds01dProcess, labConfigDir, ready, runDs01, startDs01d } from '../support/ds01d.ts';
import { describeWithPostgres } from '../support/postgres.ts';
import { PrivatePostgres } from '../support/privatePostgres.ts';
import { waitUntil } from '../support/waitUntil.ts';

/**
 * ds01d on a PostgreSQL log whose server crashes and restarts under it (a server of the test's own: the
 * shared test cluster stays up for the suites beside this one). ds01d keeps running; what Docker did while
 * the server was away is on the log exactly once when it is back, and the read models follow again.
 */
describeWithDocker('the PostgreSQL server restarted under a running ds01d', (td) => {
  describeWithPostgres('the PostgreSQL server restarted under a running ds01d', () => {
    const server = new PrivatePostgres(`daemon-${process.pid}`);
    const folder = mkdtempSync(join(tmpdir(), 'ds01-pg-restart-'));
    const dirs = { dataDir: join(folder, 'data'), configDir: join(folder, 'config') };
    let daemon: Ds01dProcess | undefined;
    let store: EventStore;

    beforeAll(async () => {
      await server.create();
      labConfigDir(dirs.configDir, { host: 'gpu01' });
      writeFileSync(
        join(dirs.configDir, 'ds01.yaml'),
        `host: gpu01\nevent_store:\n  url: "${server.url}"\nlog_level: info\ngpus:\n  mode: simulated\n  simulated:\n    - { name: NVIDIA A100-SXM4-80GB, memory_mib: 81920, mig: null }\n`,
      );
      store = await openEventStore({ url: server.url, path: '', codec: eventCatalog, readOnly: true });
    }, 120_000);
    afterAll(async () => {
      await daemon?.stop();
      await store?.close();
      await cleanupTestRun(td);
      await server.destroy();
      rmSync(folder, { recursive: true, force: true });
    }, 60_000);

    /** The event types of each container's stream, once every one holds `wanted`. */
    async function streamsOnceThere(ids: readonly string[], wanted: readonly string[]) {
      const streams = new Map<string, string[]>();
      await waitUntil(
        async () => {
          for (const id of ids) {
            const types: string[] = [];
            for await (const e of store.readStream(containerStream(id))) types.push(e.type);
            streams.set(id, types);
          }
          return [...streams.values()].every((types) => wanted.every((w) => types.includes(w)));
        },
        `${wanted.join(', ')} of ${ids.length} container(s) on the log`,
        90_000,
      );
      return streams;
    }
    const count = (types: readonly string[], type: string) => types.filter((t) => t === type).length;
    const listed = async () => {
      const result = await runDs01(['containers', '--all', '--json'], dirs);
      expect(result.code, result.stderr).toBe(0);
      return new Map(
        (JSON.parse(result.stdout) as { container_id: string; status: string }[]).map((r) => [
          r.container_id,
          r.status,
        ]),
      );
    };

    it('keeps running; what happened meanwhile is recorded once, and the read models follow again', async () => {
      daemon = startDs01d({ ...dirs, dockerHost: td.host, logLevel: 'info' });
      await daemon.waitFor(ready, 'ds01d ready', 120_000);
      const before = await createTestContainer(td, { start: true });
      await streamsOnceThere([before.id], ['ContainerCreated', 'ContainerStarted']);

      // A crash: no shutdown checkpoint, recovery from the WAL at the next start.
      await server.stop('immediate');
      const during = await createTestContainer(td, { start: true });
      const exited = await createTestContainer(td, { start: true, cmd: ['sh', '-c', 'exit 3'] });
      await before.stop({ t: 1 });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(daemon.child.exitCode).toBeNull();
      await server.start();
      const streams = await streamsOnceThere(
        [during.id, exited.id],
        ['ContainerCreated', 'ContainerStarted'],
      );
      await streamsOnceThere([before.id, exited.id], ['ContainerStopped']);

      // A clean restart too (every connection closed by the server).
      await server.stop('fast');
      await server.start();
      const after = await createTestContainer(td, { start: true });
      await streamsOnceThere([after.id], ['ContainerCreated', 'ContainerStarted']);

      for (const id of [before.id, during.id, exited.id, after.id]) {
        const [types] = [...(await streamsOnceThere([id], ['ContainerStarted'])).values()];
        expect(count(types!, 'ContainerCreated'), types!.join()).toBe(1);
        expect(count(types!, 'ContainerStarted'), types!.join()).toBe(1);
        expect(count(types!, 'ContainerStopped'), types!.join()).toBeLessThanOrEqual(1);
      }
      expect(streams.size).toBe(2);
      // The projection runner's subscription outlived both restarts: the CLI's read models are current.
      await waitUntil(
        async () => {
          const rows = await listed();
          return (
            rows.get(after.id) === 'running' &&
            rows.get(exited.id) === 'exited' &&
            rows.get(before.id) === 'exited'
          );
        },
        'the containers read model to show every container as Docker has it',
        60_000,
      );
      expect(daemon.lines.filter((line) => line.level === 'fatal')).toEqual([]);
      expect(await daemon.stop()).toBe(0);
    }, 300_000);
  });
});
