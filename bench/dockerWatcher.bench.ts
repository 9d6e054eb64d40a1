// The docker watcher on a real dockerd of its own (as root; the image comes from the test dockerd that
// scripts/test.sh starts): 1,000 containers created,
// started, stopped and removed, and the delay from each Docker event to its durable domain event; then
// reconciling 1,000 existing containers from cold against `docker ps -a` + inspect alone.
import { join } from 'node:path';
import { DockerWatcher } from '@ds01/docker-watcher';
import { eventCatalog } from '@ds01/domain';
import { type EventStore, SqliteEventStore } from '@ds01/event-store';
import { connectDocker, type DockerConnection, inspectAllContainers } from '@ds01/host';
import type { TestDocker } from '../test/support/docker.ts';
import { PrivateDockerd } from '../test/support/privateDockerd.ts';
import type { BenchContext, BenchFile, BenchResult } from './lib/benchFile.ts';
import { measure, percentile } from './lib/measure.ts';

const DOCKER_HOST = process.env['DS01_TEST_DOCKER_HOST'] || 'unix:///run/ds01-test/docker.sock';
const IMAGE = process.env['DS01_TEST_IMAGE'] || 'ds01-test/busybox:latest';
const LABEL = 'ds01.bench.run';
const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** Wraps a store to note, per Docker event identity, when its domain event was durable (append resolved). */
function timingStore(store: EventStore, durableAt: Map<string, number>): EventStore {
  const append: EventStore['append'] = async (streamId, events, options) => {
    const result = await store.append(streamId, events, options);
    const now = performance.timeOrigin + performance.now();
    for (const e of events) {
      const ref = (e.data as { dockerEvent?: { timeNano: string; action: string; id: string } | null })
        .dockerEvent;
      if (ref) durableAt.set(`${ref.id}|${ref.timeNano}|${ref.action}`, now);
    }
    return result;
  };
  // The store keeps #private fields: every other call goes to it, bound.
  return new Proxy(store, {
    get(target, property) {
      if (property === 'append') return append;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Runs `task` for 0..n-1 with `concurrency` at a time. */
async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

async function removeBenchContainers(host: string, runId: string): Promise<void> {
  const { docker } = connectDocker(host);
  const list = await docker.listContainers({
    all: true,
    filters: JSON.stringify({ label: [`${LABEL}=${runId}`] }),
  });
  await pool(list.length, 8, async (i) => {
    await docker
      .getContainer(list[i]!.Id)
      .remove({ force: true })
      .catch(() => {});
  });
}

const bench: BenchFile = {
  name: 'Docker watcher (real dockerd)',
  description:
    'On a dockerd of its own (vfs, started like the test dockerd): containers created, started (they exit at once) and removed through ' +
    'the Engine API, 8 at a time, while the watcher runs. "event → durable" is one event each: the delay from ' +
    "Docker's event time (timeNano) to the moment the domain event's append resolved (fsync'd); target p99 < 100 ms. " +
    '"reconcile from cold": a new watcher process state, with 1,000 existing containers: first start on an empty ' +
    'log (describes and appends 2 events per container) and a restart on a log that knows them; the baseline is ' +
    '`docker ps -a` + inspect of each alone (same concurrency); target < 2 s.',
  async run(context: BenchContext): Promise<BenchResult[]> {
    const containers = context.quick ? 100 : 1000;
    const shared = connectDocker(DOCKER_HOST);
    await shared.docker.ping().catch((error: Error) => {
      throw new Error(
        `no test dockerd at ${DOCKER_HOST} (${error.message}): run scripts/test.sh once as root`,
      );
    });
    const runId = `${process.pid}-${Date.now()}`;
    // A daemon of its own: other suites' containers on the shared one would weigh on every number.
    const daemon = new PrivateDockerd(`bench-${process.pid}`);
    await daemon.start();
    try {
      await daemon.loadImageFrom({ host: DOCKER_HOST, image: IMAGE } as TestDocker);
      return await measureOn(connectDocker(daemon.host), containers, runId, context);
    } finally {
      await daemon.destroy();
    }
  },
};

async function measureOn(
  connection: DockerConnection,
  containers: number,
  runId: string,
  context: BenchContext,
): Promise<BenchResult[]> {
  const results: BenchResult[] = [];

  // 1. Event → durable domain event, under a steady stream of container lives.
  const durableAt = new Map<string, number>();
  const lifeStore = new SqliteEventStore({ path: join(context.workDir, 'life.db'), codec: eventCatalog });
  const watcher = new DockerWatcher({
    store: timingStore(lifeStore, durableAt),
    connection,
    checkpointPath: join(context.workDir, 'life.checkpoint'),
    logger: silent,
  });
  await watcher.start();
  const ours = new Set<string>();
  await pool(containers, 8, async (i) => {
    const c = await connection.docker.createContainer({
      name: `ds01-bench-${runId}-${i}`,
      Image: IMAGE,
      Cmd: ['true'],
      Labels: { [LABEL]: runId },
    });
    ours.add(c.id);
    await c.start();
    await c.wait();
    await c.remove();
  });
  // Wait (bounded) for the watcher to record the last removals.
  const deadline = Date.now() + 60_000;
  const removedCount = () =>
    [...durableAt.keys()].filter((k) => k.endsWith('|destroy') && ours.has(k.split('|')[0]!)).length;
  while (removedCount() < containers && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await watcher.stop();
  const delays: number[] = [];
  for (const [key, at] of durableAt) {
    const [id, timeNano] = key.split('|') as [string, string];
    if (ours.has(id)) delays.push(at - Number(BigInt(timeNano) / 1000n) / 1000);
  }
  await lifeStore.close();
  delays.sort((a, b) => a - b);
  const median = percentile(delays, 50);
  const p99 = percentile(delays, 99);
  console.log(
    `  event → durable: ${delays.length} Docker events of ${containers} containers, median ${median.toFixed(1)} ms, ` +
      `p99 ${p99.toFixed(1)} ms, max ${delays.at(-1)?.toFixed(1)} ms (target p99 < 100 ms: ${p99 < 100 ? 'met' : 'MISSED'})`,
  );
  results.push({
    name: `Docker event → durable domain event (${containers} containers × create/start/die/destroy)`,
    variant: 'ds01 watcher, per event',
    eventsPerRepetition: 1,
    repetitions: delays.length,
    medianMs: median,
    p99Ms: p99,
    eventsPerSecond: 1000 / median,
    cpuMicrosPerEvent: 0,
    peakRssBytes: process.memoryUsage().rss,
    peakHeapUsedBytes: process.memoryUsage().heapUsed,
  });

  // 2. Reconcile existing containers from cold.
  await pool(containers, 8, async (i) => {
    await connection.docker.createContainer({
      name: `ds01-bench-${runId}-idle-${i}`,
      Image: IMAGE,
      Cmd: ['true'],
      Labels: { [LABEL]: runId },
    });
  });
  const existing = (await connection.docker.listContainers({ all: true })).length;
  let round = 0;
  const name = `reconcile ${existing} existing containers from cold`;
  const baseline = await measure({
    name,
    variant: 'docker ps -a + inspect alone',
    eventsPerRepetition: existing,
    warmup: 1,
    repetitions: context.quick ? 3 : 5,
    run: async () => {
      await inspectAllContainers(connection);
    },
  });
  const fresh = () => {
    round += 1;
    return {
      store: new SqliteEventStore({
        path: join(context.workDir, `reconcile-${round}.db`),
        codec: eventCatalog,
      }),
      checkpointPath: join(context.workDir, `reconcile-${round}.checkpoint`),
    };
  };
  let target = fresh();
  const firstStart = await measure({
    name,
    variant: 'ds01 watcher, first start (empty log)',
    eventsPerRepetition: existing,
    warmup: 1,
    repetitions: context.quick ? 3 : 5,
    baseline: 'docker ps -a + inspect alone',
    before: async () => {
      await target.store.close();
      target = fresh();
    },
    run: async () => {
      const w = new DockerWatcher({ ...target, connection, logger: silent });
      await w.start();
      await w.stop();
    },
  });
  const restart = await measure({
    name,
    variant: 'ds01 watcher, restart (log knows them)',
    eventsPerRepetition: existing,
    warmup: 1,
    repetitions: context.quick ? 3 : 5,
    baseline: 'docker ps -a + inspect alone',
    run: async () => {
      const w = new DockerWatcher({ ...target, connection, logger: silent });
      await w.start();
      await w.stop();
    },
  });
  await target.store.close();
  for (const r of [firstStart, restart]) {
    console.log(
      `  ${r.variant}: median ${r.medianMs.toFixed(0)} ms (target < 2000 ms: ${r.medianMs < 2000 ? 'met' : 'MISSED'})`,
    );
  }
  results.push(baseline, firstStart, restart);
  await removeBenchContainers(connection.host, runId);
  return results;
}

export default bench;
