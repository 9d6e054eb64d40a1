import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { containerStream, eventCatalog } from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import { connectDocker } from '@ds01/host';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker } from '../support/docker.ts';
import { type Ds01dProcess, labConfigDir, ready, runDs01, startDs01d } from '../support/ds01d.ts';
import { PrivateDockerd } from '../support/privateDockerd.ts';

const run = promisify(execFile);

/**
 * Hundreds of containers at once, where the watcher used to lose or double facts: started while ds01d
 * starts (its reconciliation takes seconds while Docker's ring keeps only 256 events), and while dockerd
 * restarts under it. Afterwards every container's stream holds each of its transitions once, and
 * `ds01 containers --all` agrees with `docker inspect` on every container. On a dockerd of its own: the
 * burst must not slow the suites beside it, and the second part kills the daemon.
 */
const BURST = Number(process.env.DS01_BURST_CONTAINERS ?? 400);
/** Containers created and started at once: "in parallel" without 400 docker CLI processes on 2 cores. */
const PARALLEL = 24;
const LABEL = 'ds01.test.burst';

describeWithDocker('a burst of containers: none lost, none twice', (td) => {
  const dockerd = new PrivateDockerd('burst');
  const dataDir = mkdtempSync(join(tmpdir(), 'ds01-burst-'));
  const configDir = labConfigDir(join(dataDir, 'config'), { host: 'burst-host' });
  const dataPath = join(dataDir, 'data');
  let daemon: Ds01dProcess | undefined;

  beforeAll(async () => {
    await dockerd.start();
    await dockerd.loadImageFrom(td);
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    await dockerd.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  /**
   * Creates and starts `count` short-lived containers, PARALLEL at a time. While dockerd restarts, a
   * create is retried (or found done) and a failed start is left failed: each container is started at
   * most once, so its log must show at most one run.
   */
  async function burst(round: string, count: number, options: { tolerateDaemonDown?: boolean } = {}) {
    const docker = connectDocker(dockerd.host).docker;
    let next = 0;
    const one = async () => {
      while (next < count) {
        const index = next++;
        const name = `burst-${td.runId}-${round}-${index}`;
        let id: string | undefined;
        for (let attempt = 0; id === undefined; attempt++) {
          try {
            const container = await docker.createContainer({
              Image: td.image,
              name,
              // 0, 1 or 2 seconds: some exit at once (before Docker publishes their start), some run on.
              Cmd: ['sleep', String(index % 3)],
              Labels: { [LABEL]: `${td.runId}-${round}` },
            });
            id = container.id;
          } catch (error) {
            if (!options.tolerateDaemonDown || attempt > 400) throw error;
            await new Promise((resolve) => setTimeout(resolve, 250));
            const existing = await docker
              .listContainers({ all: true, filters: { name: [`^/${name}$`] } })
              .catch(() => []);
            id = existing[0]?.Id;
          }
        }
        try {
          await docker.getContainer(id).start();
        } catch (error) {
          if (!options.tolerateDaemonDown) throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, one)).catch((error: unknown) => {
      const died = dockerd.unexpectedExit();
      throw died ? new Error(`${String(error)}: ${died}`, { cause: error }) : error;
    });
  }

  /** Waits until no container of the round runs any more (each exits within 2 s of its start). */
  async function allExited(round: string): Promise<void> {
    const deadline = Date.now() + 180_000;
    for (;;) {
      const running = await dockerd
        .docker('ps', '-q', '--filter', `label=${LABEL}=${td.runId}-${round}`)
        .catch(() => 'daemon down');
      if (running === '') return;
      if (Date.now() > deadline)
        throw new Error(`containers of ${round} still running after 180 s: ${running.slice(0, 200)}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  /** Docker's view of every container of a round: id → status and exit code. */
  async function dockerView(round: string): Promise<Map<string, { status: string; exitCode: number }>> {
    const ids = (
      await dockerd.docker('ps', '-aq', '--no-trunc', '--filter', `label=${LABEL}=${td.runId}-${round}`)
    )
      .split('\n')
      .filter(Boolean);
    const view = new Map<string, { status: string; exitCode: number }>();
    for (let i = 0; i < ids.length; i += 100) {
      const { stdout } = await run(
        'docker',
        [
          '-H',
          dockerd.host,
          'inspect',
          '--format',
          '{{.Id}} {{.State.Status}} {{.State.ExitCode}}',
          ...ids.slice(i, i + 100),
        ],
        { maxBuffer: 16 * 1024 * 1024 },
      );
      for (const line of stdout.trim().split('\n')) {
        const [id, status, exitCode] = line.split(' ');
        view.set(id!, { status: status!, exitCode: Number(exitCode) });
      }
    }
    return view;
  }

  /** Each container's recorded transitions, by type. */
  async function transitionsOnLog(ids: Iterable<string>): Promise<Map<string, string[]>> {
    const store = new SqliteEventStore({
      path: join(dataPath, 'events.db'),
      codec: eventCatalog,
      readOnly: true,
    });
    try {
      const byContainer = new Map<string, string[]>();
      for (const id of ids) {
        const types: string[] = [];
        for await (const e of store.readStream(containerStream(id))) types.push(e.type);
        byContainer.set(id, types);
      }
      return byContainer;
    } finally {
      await store.close();
    }
  }

  /** The transitions a container's stream must hold once each, from what Docker says of it now. */
  const expected = (status: string) =>
    status === 'created'
      ? ['ContainerCreated', 'ContainerDescribed', 'UnmanagedContainerDetected']
      : [
          'ContainerCreated',
          'ContainerDescribed',
          'UnmanagedContainerDetected',
          'ContainerStarted',
          'ContainerStopped',
        ];
  const COUNTED = [
    'ContainerCreated',
    'ContainerDescribed',
    'UnmanagedContainerDetected',
    'ContainerStarted',
    'ContainerStopped',
  ];

  /** Waits (condition, not time) until every container has its transitions on the log. */
  async function logHasAll(
    docker: Map<string, { status: string }>,
    what: string,
  ): Promise<Map<string, string[]>> {
    const deadline = Date.now() + 180_000;
    for (;;) {
      const log = await transitionsOnLog(docker.keys());
      const missing = [...docker].filter(
        ([id, { status }]) => !expected(status).every((t) => log.get(id)!.includes(t)),
      );
      if (missing.length === 0) return log;
      if (Date.now() > deadline) {
        const [id, { status }] = missing[0]!;
        throw new Error(
          `${what}: ${missing.length} of ${docker.size} containers still lack a transition on the log after 180 s; ` +
            `e.g. ${id.slice(0, 12)} (${status} in Docker): ${log.get(id)!.join(', ') || '(nothing)'}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  async function expectExactlyOnceAndAgreement(round: string, what: string): Promise<void> {
    const docker = await dockerView(round);
    expect(docker.size, `${what}: containers in Docker`).toBe(BURST);
    const log = await logHasAll(docker, what);
    const wrong: string[] = [];
    for (const [id, types] of log) {
      const want = expected(docker.get(id)!.status);
      for (const t of COUNTED) {
        const n = types.filter((x) => x === t).length;
        if (n !== (want.includes(t) ? 1 : 0))
          wrong.push(`${id.slice(0, 12)} has ${n}× ${t}: ${types.join(', ')}`);
      }
    }
    expect(
      wrong.slice(0, 5),
      `${what}: ${wrong.length} containers without each transition exactly once`,
    ).toEqual([]);

    const listed = await runDs01(['containers', '--all', '--json'], { dataDir: dataPath, configDir });
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as {
      container_id: string;
      status: string;
      exit_code: number | null;
    }[];
    const byId = new Map(rows.map((row) => [row.container_id, row]));
    const disagreements = [...docker].flatMap(([id, truth]) => {
      const row = byId.get(id);
      // Status only: dockerd re-marks a container it finds dead at its restart exit 255 (and says die
      // again), while the log keeps the exit the container's own die reported.
      return row && row.status === truth.status
        ? []
        : [
            `${id.slice(0, 12)}: docker ${truth.status}/${truth.exitCode}, ds01 ${row ? `${row.status}/${row.exit_code}` : 'absent'}`,
          ];
    });
    expect(
      disagreements.slice(0, 5),
      `${what}: ${disagreements.length} disagree with docker inspect`,
    ).toEqual([]);
  }

  it(`${BURST} containers started in parallel while ds01d starts`, { timeout: 600_000 }, async () => {
    daemon = startDs01d({ dataDir: dataPath, configDir, dockerHost: dockerd.host, logLevel: 'info' });
    const started = burst('at-start', BURST);
    await daemon.waitFor(ready, 'ds01d ready', 300_000);
    await started;
    await allExited('at-start');
    await expectExactlyOnceAndAgreement('at-start', 'burst while ds01d starts');
  });

  it(`${BURST} containers started in parallel while dockerd restarts under ds01d`, {
    timeout: 600_000,
  }, async () => {
    await daemon!.waitFor(ready, 'ds01d ready');
    const started = burst('at-restart', BURST, { tolerateDaemonDown: true });
    // Once a quarter of them exist, dockerd dies and comes back: what runs then is stopped by it.
    const deadline = Date.now() + 120_000;
    while (
      (await dockerd.docker('ps', '-aq', '--filter', `label=${LABEL}=${td.runId}-at-restart`)).split('\n')
        .length <
      BURST / 4
    ) {
      if (Date.now() > deadline)
        throw new Error('the burst did not reach a quarter of its containers in 120 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const reconciled = (line: { msg?: string }) => line.msg === 'reconciled Docker containers with the log';
    const before = daemon!.lines.filter(reconciled).length;
    await dockerd.kill();
    await dockerd.start();
    await started;
    await allExited('at-restart');
    await daemon!.waitFor(
      (line) => reconciled(line) && daemon!.lines.filter(reconciled).length > before,
      'a reconciliation after dockerd came back',
      120_000,
    );
    await expectExactlyOnceAndAgreement('at-restart', 'burst while dockerd restarts');
  });
});
