// The docker watcher on a real dockerd of its own (as root; the image comes from the test dockerd that
// scripts/test.sh starts): 1,000 containers created,
// started, stopped and removed, and the delay from each Docker event to its durable domain event; then
// reconciling 1,000 existing containers from cold against `docker ps -a` + inspect alone.
// With --quick, DS01_BENCH_CONTAINERS sets how many (default 25).
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DockerWatcher } from '@ds01/docker-watcher';
import { eventCatalog } from '@ds01/domain';
import { type EventStore, SqliteEventStore } from '@ds01/event-store';
import {
  connectDocker,
  type DockerConnection,
  inspectAllContainers,
  inspectContainer,
  streamContainerEvents,
} from '@ds01/host';
import type { TestDocker } from '../test/support/docker.ts';
import { PrivateDockerd } from '../test/support/privateDockerd.ts';
import type { BenchContext, BenchFile, BenchResult } from './lib/benchFile.ts';
import { measure, percentile } from './lib/measure.ts';

const DOCKER_HOST = process.env['DS01_TEST_DOCKER_HOST'] || 'unix:///run/ds01-test/docker.sock';
const IMAGE = process.env['DS01_TEST_IMAGE'] || 'ds01-test/busybox:latest';
const LABEL = 'ds01.bench.run';
const silent = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Wraps a store to note when each domain event was durable (its append resolved): per Docker event
 * identity the first of its domain events (`firstDurable`), and per container its ContainerDescribed.
 */
function timingStore(
  store: EventStore,
  firstDurable: Map<string, number>,
  describedAt: Map<string, number>,
): EventStore {
  const append: EventStore['append'] = async (streamId, events, options) => {
    const result = await store.append(streamId, events, options);
    const now = performance.timeOrigin + performance.now();
    for (const e of events) {
      const ref = (e.data as { dockerEvent?: { timeNano: string; action: string; id: string } | null })
        .dockerEvent;
      if (!ref) continue;
      const key = `${ref.id}|${ref.timeNano}|${ref.action}`;
      if (!firstDurable.has(key)) firstDurable.set(key, now);
      if (e.type === 'ContainerDescribed') describedAt.set(ref.id, now);
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

/**
 * The baseline for describing a container: the same event stream read on a connection of its own and
 * each created container inspected at once, nothing else. Notes, per container, when inspect answered.
 */
function inspectAlone(
  connection: DockerConnection,
  answeredAt: Map<string, { createdNano: string; at: number }>,
): { stop: () => Promise<void> } {
  const abort = new AbortController();
  const pending = new Set<Promise<void>>();
  const loop = (async () => {
    for await (const event of streamContainerEvents(connection, { signal: abort.signal })) {
      if (event.action !== 'create') continue;
      const done = inspectContainer(connection, event.id).then(
        () => {
          answeredAt.set(event.id, {
            createdNano: event.timeNano,
            at: performance.timeOrigin + performance.now(),
          });
        },
        () => {},
      );
      pending.add(done);
      void done.finally(() => pending.delete(done));
    }
  })().catch(() => {});
  return {
    stop: async () => {
      abort.abort();
      await loop;
      await Promise.all(pending);
    },
  };
}

/**
 * Baselines that run beside the watcher under the same load: a bare reader of the event stream (when
 * each event reaches a process that does nothing with it) and the disk alone (4 KiB appended and
 * fdatasync'd every 20 ms in a thread of its own, as an append's commit would). DS01's delay can be
 * no shorter than the first plus one flush of the second.
 */
function bareBaselines(connection: DockerConnection, workDir: string) {
  const received: number[] = [];
  const abort = new AbortController();
  const reader = (async () => {
    for await (const event of streamContainerEvents(connection, { signal: abort.signal })) {
      received.push(msSince(event.timeNano, performance.timeOrigin + performance.now()));
    }
  })().catch(() => {});
  const flusher = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const fs = require('node:fs');
     const fd = fs.openSync(workDir + '/flush-probe.dat', 'a');
     const block = Buffer.alloc(4096, 7);
     const flushes = [];
     let stop = false;
     parentPort.on('message', () => { stop = true; });
     (function loop() {
       if (stop) { fs.closeSync(fd); parentPort.postMessage(flushes); return; }
       const start = performance.now();
       fs.writeSync(fd, block);
       fs.fdatasyncSync(fd);
       flushes.push(performance.now() - start);
       setTimeout(loop, 20);
     })();`.replace('workDir', JSON.stringify(workDir)),
    { eval: true },
  );
  return {
    stop: async (): Promise<{ received: number[]; flushes: number[] }> => {
      abort.abort();
      await reader;
      const flushes = new Promise<number[]>((resolve) => flusher.once('message', resolve));
      flusher.postMessage('stop');
      const result = { received, flushes: await flushes };
      await flusher.terminate();
      return result;
    },
  };
}

const msSince = (timeNano: string, at: number) => at - Number(BigInt(timeNano) / 1000n) / 1000;

function summary(delays: number[]): { median: number; p99: number; max: number } {
  delays.sort((a, b) => a - b);
  return { median: percentile(delays, 50), p99: percentile(delays, 99), max: delays.at(-1) ?? 0 };
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

/** `n` container lives (create, start, exit at once, remove), 8 at a time; returns their ids. */
async function containerLives(
  connection: DockerConnection,
  n: number,
  runId: string,
  tag: string,
): Promise<Set<string>> {
  const ids = new Set<string>();
  await pool(n, 8, async (i) => {
    const c = await connection.docker.createContainer({
      name: `ds01-bench-${runId}-${tag}-${i}`,
      Image: IMAGE,
      Cmd: ['true'],
      Labels: { [LABEL]: runId },
    });
    ids.add(c.id);
    await c.start();
    await c.wait();
    await c.remove();
  });
  return ids;
}

/** Polls until `done` holds, at most a minute (what is missing then shows in the results). */
async function settle(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
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
    "Docker's event time (timeNano) to the moment its (first) domain event's append resolved (fsync'd); target p99 < 100 ms. " +
    'Beside the watcher, under the same load, two baselines: a bare reader of the event stream (event → received) and ' +
    "the disk alone (4 KiB appended and fdatasync'd every 20 ms in a thread of its own). " +
    '"created → described": from the `create` event to the durable ContainerDescribed (owner, GPUs, limits: it needs ' +
    'an inspect, which dockerd answers only once it has started the container); its baseline is the same event stream ' +
    'read with each created container inspected at once and nothing else, in a pass of its own over the same workload. ' +
    '"reconcile from cold": a new watcher process state, with 1,000 existing containers: first start on an empty ' +
    'log (describes each and appends 3 events per container) and a restart on a log that knows them; the baseline is ' +
    '`docker ps -a` + inspect of each alone (same concurrency); target < 2 s.',
  async run(context: BenchContext): Promise<BenchResult[]> {
    const containers = context.quick ? Number(process.env['DS01_BENCH_CONTAINERS'] ?? 25) : 1000;
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
  const firstDurable = new Map<string, number>();
  const describedAt = new Map<string, number>();
  const lifeStore = new SqliteEventStore({ path: join(context.workDir, 'life.db'), codec: eventCatalog });
  const watcher = new DockerWatcher({
    store: timingStore(lifeStore, firstDurable, describedAt),
    connection,
    checkpointPath: join(context.workDir, 'life.checkpoint'),
    logger: silent,
  });
  await watcher.start();
  const bare = bareBaselines(connectDocker(connection.host), context.workDir);
  const ours = await containerLives(connection, containers, runId, 'life');
  const removals = () =>
    [...firstDurable.keys()].filter((k) => k.endsWith('|destroy') && ours.has(k.split('|')[0]!)).length;
  await settle(() => removals() >= containers && describedAt.size >= containers);
  await watcher.stop();
  const { received, flushes } = await bare.stop();
  await lifeStore.close();

  // 1b. The baseline for descriptions, in a pass of its own (beside the watcher, the two inspects would
  // race for the container's lock and the numbers would tell who won).
  const inspectedAt = new Map<string, { createdNano: string; at: number }>();
  const inspector = inspectAlone(connectDocker(connection.host), inspectedAt);
  const alone = await containerLives(connection, containers, runId, 'alone');
  await settle(() => [...alone].every((id) => inspectedAt.has(id)));
  await inspector.stop();

  const delays: number[] = [];
  const byAction = new Map<string, number[]>();
  const createdNano = new Map<string, string>();
  for (const [key, at] of firstDurable) {
    const [id, timeNano, action] = key.split('|') as [string, string, string];
    if (!ours.has(id)) continue;
    const delay = msSince(timeNano, at);
    delays.push(delay);
    byAction.set(action, [...(byAction.get(action) ?? []), delay]);
    if (action === 'create') createdNano.set(id, timeNano);
  }
  const event = summary(delays);
  console.log(
    `  event → durable: ${delays.length} Docker events of ${containers} containers, median ${event.median.toFixed(1)} ms, ` +
      `p99 ${event.p99.toFixed(1)} ms, max ${event.max.toFixed(1)} ms (target p99 < 100 ms: ${event.p99 < 100 ? 'met' : 'MISSED'})`,
  );
  const r = summary(received);
  const f = summary(flushes);
  console.log(
    `    baselines under the same load: event → received by a bare stream reader median ${r.median.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms; ` +
      `4 KiB + fdatasync median ${f.median.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms`,
  );
  for (const [action, list] of byAction) {
    const s = summary(list);
    console.log(
      `    ${action}: ${list.length}, median ${s.median.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms`,
    );
  }
  const described = [...describedAt]
    .filter(([id]) => createdNano.has(id))
    .map(([id, at]) => msSince(createdNano.get(id)!, at));
  const inspected = [...inspectedAt]
    .filter(([id]) => alone.has(id))
    .map(([, { createdNano: nano, at }]) => msSince(nano, at));
  const d = summary(described);
  const b = summary(inspected);
  console.log(
    `  create → described: median ${d.median.toFixed(1)} ms, p99 ${d.p99.toFixed(1)} ms; ` +
      `create → inspect answered (alone): median ${b.median.toFixed(1)} ms, p99 ${b.p99.toFixed(1)} ms`,
  );
  const row = (name: string, variant: string, s: ReturnType<typeof summary>, n: number): BenchResult => ({
    name,
    variant,
    eventsPerRepetition: 1,
    repetitions: n,
    medianMs: s.median,
    p99Ms: s.p99,
    eventsPerSecond: 1000 / s.median,
    cpuMicrosPerEvent: 0,
    peakRssBytes: process.memoryUsage().rss,
    peakHeapUsedBytes: process.memoryUsage().heapUsed,
  });
  const describedName = `container created → its description durable (${containers} containers)`;
  const eventName = `Docker event → durable domain event (${containers} containers × create/start/die/destroy)`;
  results.push(
    row(eventName, 'bare event stream reader: event → received', r, received.length),
    row(eventName, 'disk alone, same time: 4 KiB + fdatasync', f, flushes.length),
    {
      ...row(eventName, 'ds01 watcher, per event', event, delays.length),
      baseline: 'bare event stream reader: event → received',
    },
    row(describedName, 'create event → inspect answered, alone', b, inspected.length),
    {
      ...row(describedName, 'ds01 watcher: ContainerDescribed', d, described.length),
      baseline: 'create event → inspect answered, alone',
    },
  );

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
    repetitions: context.quick ? 2 : 5,
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
    repetitions: context.quick ? 2 : 5,
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
    repetitions: context.quick ? 2 : 5,
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
