import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerStream, eventCatalog } from '@ds01/domain';
import { openEventStore, type RecordedEvent } from '@ds01/event-store';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker } from '../support/docker.ts';
import { type Ds01dProcess, labConfigDir, ready, runDs01, startDs01d } from '../support/ds01d.ts';
import { describeWithPostgres, dropSchemas, logUrl, uniqueSchema } from '../support/postgres.ts';
import { PrivateDockerd } from '../support/privateDockerd.ts';
import { waitUntil } from '../support/waitUntil.ts';

/** Each host's own GPUs (gpus.simulated in its ds01.yaml): four A100s with MIG, and two plain L40S. */
const INVENTORIES = {
  'gpu-a': `
    - { name: NVIDIA A100-SXM4-80GB, memory_mib: 81920, mig: null }
    - { name: NVIDIA A100-SXM4-80GB, memory_mib: 81920, mig: null }
    - { name: NVIDIA A100-SXM4-80GB, memory_mib: 81920, mig: [3g.40gb, 2g.20gb, 1g.10gb, 1g.10gb] }
    - { name: NVIDIA A100-SXM4-80GB, memory_mib: 81920, mig: [1g.10gb, 1g.10gb, 1g.10gb, 1g.10gb, 1g.10gb, 1g.10gb, 1g.10gb] }`,
  'gpu-b': `
    - { name: NVIDIA L40S, memory_mib: 46068, mig: null }
    - { name: NVIDIA L40S, memory_mib: 46068, mig: null }`,
} as const;
type HostName = keyof typeof INVENTORIES;

/**
 * Several servers on one log: two ds01d with different host names, each with its own dockerd and its own
 * simulated GPUs, on one PostgreSQL log. Each records its own containers and its own pool; a CLI on either
 * sees both, or one with --host; and neither takes the other's containers for removed when it reconciles.
 */
describeWithDocker('several hosts on one PostgreSQL log', (td) => {
  describeWithPostgres('two ds01d, two dockerds, two inventories', (serverUrl) => {
    const schema = uniqueSchema('hosts');
    const url = logUrl(serverUrl, schema);
    const folder = mkdtempSync(join(tmpdir(), 'ds01-hosts-'));
    const hosts = Object.fromEntries(
      (Object.keys(INVENTORIES) as HostName[]).map((host) => [
        host,
        {
          dockerd: new PrivateDockerd(`hosts-${host}-${process.pid}`),
          dataDir: join(folder, host, 'data'),
          configDir: join(folder, host, 'config'),
          daemon: undefined as Ds01dProcess | undefined,
          containerId: '',
        },
      ]),
    ) as Record<
      HostName,
      {
        dockerd: PrivateDockerd;
        dataDir: string;
        configDir: string;
        daemon: Ds01dProcess | undefined;
        containerId: string;
      }
    >;
    const each = () => Object.entries(hosts) as [HostName, (typeof hosts)[HostName]][];
    const cli = (host: HostName, ...args: string[]) => runDs01(args, hosts[host]);

    beforeAll(async () => {
      await Promise.all(
        each().map(async ([host, h]) => {
          labConfigDir(h.configDir, { host });
          writeFileSync(
            join(h.configDir, 'ds01.yaml'),
            `host: ${host}\nevent_store:\n  url: "${url}"\nlog_level: info\ngpus:\n  mode: simulated\n  simulated:${INVENTORIES[host]}\n`,
          );
          await h.dockerd.start();
          await h.dockerd.loadImageFrom(td);
        }),
      );
    }, 180_000);

    afterAll(async () => {
      for (const [, h] of each()) {
        await h.daemon?.stop();
        await h.dockerd.destroy();
      }
      await dropSchemas(serverUrl, [schema]);
      rmSync(folder, { recursive: true, force: true });
    }, 120_000);

    const startDaemon = async (host: HostName) => {
      const h = hosts[host];
      h.daemon = startDs01d({
        dataDir: h.dataDir,
        configDir: h.configDir,
        dockerHost: h.dockerd.host,
        logLevel: 'info',
      });
      await h.daemon.waitFor(ready, `ds01d ready on ${host}`, 120_000);
    };

    it('each host records its own containers and pool; a CLI on either sees both, or one with --host', async () => {
      for (const [host] of each()) await startDaemon(host);
      for (const [host, h] of each()) {
        h.containerId = await h.dockerd.docker(
          'run',
          '-d',
          '--name',
          `${host}-job`,
          td.image,
          'sleep',
          '600',
        );
      }
      type Row = { container_id: string; host: string; name: string; status: string };
      const listed = async (host: HostName, ...args: string[]) => {
        const result = await cli(host, 'containers', '--json', ...args);
        expect(result.code, result.stderr).toBe(0);
        return (JSON.parse(result.stdout) as Row[]).filter((row) => row.name.endsWith('-job'));
      };
      // The CLI of either host: both containers, each with the host that runs it.
      for (const [host] of each()) {
        await waitUntil(
          async () => (await listed(host)).filter((row) => row.status === 'running').length === 2,
          `both containers running in ${host}'s view`,
          60_000,
        );
        const rows = await listed(host);
        expect(rows.map((row) => [row.host, row.container_id]).sort()).toEqual(
          each()
            .map(([name, h]) => [name, h.containerId])
            .sort(),
        );
        expect((await listed(host, '--host', 'gpu-b')).map((row) => row.container_id)).toEqual([
          hosts['gpu-b'].containerId,
        ]);
      }
      const table = await cli('gpu-a', 'containers');
      expect(table.stdout).toMatch(/^HOST\s+CONTAINER/m);
      expect(table.stdout).toMatch(/gpu-b\s+[0-9a-f]{12}\s+gpu-b-job/);

      // Each host's pool, from its own inventory: 13 slots on gpu-a (two whole GPUs, 4 + 7 MIG slices), two on gpu-b.
      const allocated = await cli(
        'gpu-b',
        'gpu',
        'allocate',
        '--user',
        'root',
        '--count',
        '1',
        '--container',
        hosts['gpu-b'].containerId,
        // The container is a test's, owned by nobody DS01 can name: root allocates for it anyway, recorded.
        '--force',
        '--json',
      );
      expect(allocated.code, allocated.stderr).toBe(0);
      type Status = {
        hosts: string[];
        slots: { host: string; slot: string; user: string | null; container_id: string | null }[];
      };
      const status = async (host: HostName, ...args: string[]) => {
        const result = await cli(host, 'gpu', 'status', '--json', ...args);
        expect(result.code, result.stderr).toBe(0);
        return JSON.parse(result.stdout) as Status;
      };
      await waitUntil(
        async () => (await status('gpu-a')).slots.some((s) => s.container_id === hosts['gpu-b'].containerId),
        "gpu-b's allocation in gpu-a's view",
        30_000,
      );
      const everyHost = await status('gpu-a');
      expect(everyHost.hosts).toEqual(['gpu-a', 'gpu-b']);
      const slotsOf = (s: Status, host: string) => s.slots.filter((slot) => slot.host === host);
      expect(slotsOf(everyHost, 'gpu-a')).toHaveLength(13);
      expect(slotsOf(everyHost, 'gpu-a').every((slot) => slot.container_id === null)).toBe(true);
      const slotsOfB = slotsOf(everyHost, 'gpu-b');
      expect(slotsOfB.map((slot) => slot.slot)).toEqual(['0', '1']);
      expect(slotsOfB.filter((slot) => slot.container_id === hosts['gpu-b'].containerId)).toHaveLength(1);
      const onlyB = await status('gpu-a', '--host', 'gpu-b');
      expect(onlyB.hosts).toEqual(['gpu-b']);
      expect(onlyB.slots).toEqual(slotsOf(everyHost, 'gpu-b'));
      const text = (await cli('gpu-b', 'gpu', 'status')).stdout;
      expect(text).toContain('GPU pool of gpu-a');
      expect(text).toContain('GPU pool of gpu-b');
    }, 300_000);

    it("a host's reconciliation leaves the other host's containers alone, and every container stream is one host's", async () => {
      // gpu-b restarts: its reconciliation lists its own dockerd, where gpu-a's container is not.
      await hosts['gpu-b'].daemon!.stop();
      await startDaemon('gpu-b');
      const store = await openEventStore({ url, path: '', codec: eventCatalog, readOnly: true });
      try {
        for (const [host, h] of each()) {
          const events: RecordedEvent[] = [];
          for await (const event of store.readStream(containerStream(h.containerId))) events.push(event);
          expect(events.length).toBeGreaterThan(0);
          expect(new Set(events.map((event) => event.metadata.host))).toEqual(new Set([host]));
          expect(events.map((event) => event.type)).not.toContain('ContainerRemoved');
        }
      } finally {
        await store.close();
      }
      const rows = JSON.parse((await cli('gpu-b', 'containers', '--json')).stdout) as {
        host: string;
        status: string;
      }[];
      expect(rows.find((row) => row.host === 'gpu-a')?.status).toBe('running');
    }, 180_000);
  });
});
