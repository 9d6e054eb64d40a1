// GPU allocation on the embedded store: allocate/release round trips from command to durable event
// against a bare append of one event in the same run; then one decision on a pool stream with 200
// users and 1,000 past allocations (cold, cached, pure decide) against what ds01-infra does for every
// decision: `docker ps -a` and one `docker inspect` process per container, on the real test dockerd;
// then the gateway's allocation step of `docker run --gpus 1` (grant for the create, bind to the
// container) on pool streams of 1,000 and 1,000,000 events, from the last snapshot and the tail,
// against loading the whole stream as a snapshot-less reader does.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_SNAPSHOT_EVERY, fixedInventory, GpuAllocator } from '@ds01/allocation';
import {
  type AllocateGpu,
  decideGpuPool,
  eventCatalog,
  evolvePool,
  GpuAllocated,
  type GpuPoolEvent,
  GpuPoolSnapshotTaken,
  gpuPoolDecider,
  gpuPoolStream,
  initialPoolState,
  type PoolState,
  snapshotOfPoolState,
} from '@ds01/domain';
import { CommandHandler, type NewEvent, newEventId, SqliteEventStore } from '@ds01/event-store';
import { connectDocker } from '@ds01/host';
import { sevenSlicePool } from '../packages/domain/test/allocation/pools.ts';
import type { BenchContext, BenchFile, BenchResult } from './lib/benchFile.ts';
import { measureInterleaved } from './lib/measure.ts';

const run = promisify(execFile);
const DOCKER_HOST = process.env['DS01_TEST_DOCKER_HOST'] || 'unix:///run/ds01-test/docker.sock';
const IMAGE = process.env['DS01_TEST_IMAGE'] || 'ds01-test/busybox:latest';
const LABEL = 'ds01.bench.run';
const actor = { kind: 'service' as const, name: 'allocation-bench' };
const unlimited = {
  limitsFor: () => ({
    quotaGpuEquivalents: null,
    perContainerSlotCap: null,
    allowFullGpu: true,
    holdAfterStopHours: 0.25,
    aggregateGpuLimit: null,
  }),
};
const containerId = (i: number) => i.toString(16).padStart(64, '0');

/** Snapshots as GpuAllocator appends them by default. */
const SNAPSHOT_EVERY = DEFAULT_SNAPSHOT_EVERY;

function allocatorOn(store: SqliteEventStore, host: string): GpuAllocator {
  return new GpuAllocator({
    store,
    host,
    limits: unlimited,
    inventory: fixedInventory(sevenSlicePool),
    users: { statusOf: async () => 'active' },
    snapshotEvery: SNAPSHOT_EVERY,
  });
}

/** One GpuAllocated as a bare store append writes it (no decision). */
const bareEvent = (container: string): NewEvent => ({
  ...GpuAllocated({
    requestId: randomUUID(),
    slot: '0.0',
    gpuIndex: 0,
    profile: '1g.10gb',
    gpuEquivalents: 1 / 7,
    deviceId: 'MIG-bench',
    user: 'alice',
    containerId: container,
    observation: 'observed',
    since: new Date().toISOString(),
  }),
  metadata: {
    eventId: newEventId(),
    occurredAt: new Date().toISOString(),
    actor,
    host: 'bench',
    correlationId: randomUUID(),
    causationId: null,
  },
});

/** Allocate and release, each from the command to its durable event, against one bare append. */
async function roundTrips(context: BenchContext): Promise<BenchResult[]> {
  const store = new SqliteEventStore({ path: join(context.workDir, 'round-trips.db'), codec: eventCatalog });
  const allocator = allocatorOn(store, 'bench');
  const [a, b] = [containerId(1), containerId(2)];
  const holds = async (id: string) =>
    [...(await allocator.state()).holdings.values()].some((h) => h.containerId === id);
  let revision: number | 'no_stream' = 'no_stream';
  const name = 'one GPU command, from command to durable event';
  const warmup = context.quick ? 5 : 30;
  const repetitions = context.quick ? 40 : 500;
  const bare = 'bare append of one event (SqliteEventStore)';
  try {
    return await measureInterleaved([
      {
        name,
        variant: bare,
        eventsPerRepetition: 1,
        warmup,
        repetitions,
        run: async () => {
          revision = (await store.append('bench-bare', [bareEvent(a)], { expectedRevision: revision }))
            .nextExpectedRevision;
        },
      },
      {
        name,
        variant: 'allocate (GpuAllocator: limits, status, inventory, decide, append)',
        eventsPerRepetition: 1,
        warmup,
        repetitions,
        before: async () => {
          if (await holds(a)) await allocator.release({ target: { container: a } }, actor);
        },
        run: async () => {
          await allocator.allocate(
            { user: 'alice', request: { count: 1, profile: null }, containerId: a },
            actor,
          );
        },
        baseline: bare,
      },
      {
        name,
        variant: 'release (GpuAllocator)',
        eventsPerRepetition: 1,
        warmup,
        repetitions,
        before: async () => {
          if (!(await holds(b))) {
            await allocator.allocate(
              { user: 'bob', request: { count: 1, profile: null }, containerId: b },
              actor,
            );
          }
        },
        run: async () => {
          await allocator.release({ target: { container: b } }, actor);
        },
        baseline: bare,
      },
    ]);
  } finally {
    await store.close();
  }
}

/**
 * A pool stream with 1,000 past allocations of 200 users (each released when the pool is full, so
 * the stream holds about 2,000 events), as a lab's pool looks after a few weeks.
 */
async function poolWithHistory(
  store: SqliteEventStore,
  host: string,
  allocations: number,
): Promise<GpuAllocator> {
  const allocator = allocatorOn(store, host);
  const held: string[] = [];
  for (let i = 0; i < allocations; i++) {
    if (held.length === sevenSlicePool.length) {
      await allocator.release({ target: { container: held.shift()! } }, actor);
    }
    const id = containerId(1000 + i);
    await allocator.allocate(
      { user: `user${i % 200}`, request: { count: 1, profile: null }, containerId: id },
      actor,
    );
    held.push(id);
  }
  // One slot free, for the measured decisions.
  await allocator.release({ target: { container: held.shift()! } }, actor);
  return allocator;
}

async function decisions(context: BenchContext, containers: string[] | null): Promise<BenchResult[]> {
  const store = new SqliteEventStore({ path: join(context.workDir, 'decisions.db'), codec: eventCatalog });
  const allocations = 1000;
  const warm = await poolWithHistory(store, 'history', allocations);
  const poolEvents = (await store.streamRevision(gpuPoolStream('history'))) as number;
  console.log(`  pool stream: ${poolEvents + 1} events from ${allocations} allocations of 200 users`);
  const decider = 'd'.repeat(64);
  const free = async () => {
    if ([...(await warm.state()).holdings.values()].some((h) => h.containerId === decider)) {
      await warm.release({ target: { container: decider } }, actor);
    }
  };
  const decide = (allocator: GpuAllocator) =>
    allocator.allocate({ user: 'user7', request: { count: 1, profile: null }, containerId: decider }, actor);
  let state: PoolState = await warm.state();
  const command = (): AllocateGpu => ({
    type: 'AllocateGpu',
    requestId: randomUUID(),
    user: 'user7',
    request: { count: 1, profile: null },
    containerId: decider,
    limits: unlimited.limitsFor(),
    userStatus: 'active',
    inventory: sevenSlicePool,
    now: new Date(),
  });
  const count = containers?.length ?? 0;
  const name = `one allocation decision: ${allocations.toLocaleString('en-US')} past allocations; ds01-infra: ${count.toLocaleString('en-US')} containers`;
  const ds01Infra = 'ds01-infra: docker ps -a + one docker inspect per container';
  const baseline = containers ? { baseline: ds01Infra } : {};
  const repetitions = context.quick ? 10 : 100;
  const results = await measureInterleaved([
    {
      name,
      variant: 'ds01: pool state cached (ds01d, one allocator)',
      eventsPerRepetition: 1,
      warmup: 5,
      repetitions,
      before: free,
      run: async () => void (await decide(warm)),
      ...baseline,
    },
    {
      name,
      variant: `ds01: cold, loads the pool stream (${poolEvents + 1} events)`,
      eventsPerRepetition: 1,
      warmup: 2,
      repetitions: context.quick ? 5 : 30,
      before: free,
      run: async () => void (await decide(allocatorOn(store, 'history'))),
      ...baseline,
    },
    {
      name,
      variant: 'ds01: decide only (pure, in memory)',
      eventsPerRepetition: 1,
      warmup: 50,
      repetitions: context.quick ? 100 : 2000,
      before: async () => {
        state = await warm.state();
      },
      run: () => void decideGpuPool(command(), state),
      ...baseline,
    },
  ]);
  await store.close();
  if (!containers) return results;
  const [infra] = await measureInterleaved([
    {
      name,
      variant: ds01Infra,
      eventsPerRepetition: 1,
      warmup: 0,
      // One state read of 1,000 containers takes minutes on a busy machine: one repetition.
      repetitions: context.quick ? 2 : 1,
      run: () => ds01InfraStateRead(containers),
    },
  ]);
  return [infra!, ...results];
}

/** What gpu-state-reader does for every decision: list the containers, inspect each in its own process. */
async function ds01InfraStateRead(names: readonly string[]): Promise<void> {
  const env = { ...process.env, DOCKER_HOST };
  await run('docker', ['ps', '-a', '--format', '{{.Names}}'], { env, maxBuffer: 64 * 1024 * 1024 });
  for (const name of names) {
    const { stdout } = await run('docker', ['inspect', name], { env, maxBuffer: 16 * 1024 * 1024 });
    JSON.parse(stdout);
  }
}

/** Containers as ds01-infra labels them (created, not started: no GPU here), on the test dockerd. */
async function makeContainers(count: number, runId: string): Promise<string[] | null> {
  const { docker } = connectDocker(DOCKER_HOST);
  try {
    await docker.ping();
    await docker.getImage(IMAGE).inspect();
  } catch (error) {
    console.log(
      `  test dockerd at ${DOCKER_HOST} not usable (${(error as Error).message}): ds01-infra comparison skipped`,
    );
    return null;
  }
  const names: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < count) {
        const i = next++;
        const name = `ds01-bench-${runId}-${i}._.${1000 + (i % 200)}`;
        await docker.createContainer({
          name,
          Image: IMAGE,
          Cmd: ['true'],
          Labels: {
            [LABEL]: runId,
            'ds01.user': `user${i % 200}`,
            'ds01.managed': 'true',
            'ds01.interface': 'atomic',
            'ds01.gpu.allocated': `${i % 4}.${i % 7}`,
            'ds01.gpu.uuids': `MIG-${randomUUID()}`,
            'ds01.gpu.allocated_at': new Date().toISOString(),
          },
        });
        names.push(name);
      }
    }),
  );
  return names;
}

async function removeContainers(runId: string): Promise<void> {
  const { docker } = connectDocker(DOCKER_HOST);
  const list = await docker.listContainers({
    all: true,
    filters: JSON.stringify({ label: [`${LABEL}=${runId}`] }),
  });
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < list.length) {
        await docker
          .getContainer(list[next++]!.Id)
          .remove({ force: true })
          .catch(() => {});
      }
    }),
  );
}

/**
 * A pool stream of `target` events, as years of allocations make it: containers of 200 users
 * granted one slot each and released when the pool is full, decided by the pool's own decider
 * and appended 1,000 at a time, with the snapshot GpuAllocator appends every SNAPSHOT_EVERY events.
 * Leaves one slot free.
 */
async function syntheticPoolHistory(store: SqliteEventStore, host: string, target: number): Promise<void> {
  const stream = gpuPoolStream(host);
  let state: PoolState = initialPoolState();
  let revision = -1;
  let sinceSnapshot = 0;
  let batch: GpuPoolEvent[] = [];
  const held: string[] = [];
  const now = new Date();
  const flush = async () => {
    const expectedRevision = revision - batch.length < 0 ? 'no_stream' : revision - batch.length;
    const toAppend: NewEvent[] = batch.map((event) => ({
      type: event.type,
      data: event.data,
      metadata: {
        eventId: newEventId(now.getTime()),
        occurredAt: now.toISOString(),
        actor,
        host,
        correlationId: randomUUID(),
        causationId: null,
      },
    }));
    await store.append(stream, toAppend, { expectedRevision });
    batch = [];
  };
  const decide = (command: Parameters<typeof decideGpuPool>[0]) => {
    for (const event of decideGpuPool(command, state)) {
      state = evolvePool(state, event);
      batch.push(event);
      revision++;
      sinceSnapshot++;
    }
    if (sinceSnapshot >= SNAPSHOT_EVERY) {
      batch.push(GpuPoolSnapshotTaken(snapshotOfPoolState(state, revision)));
      revision++;
      sinceSnapshot = 0;
    }
  };
  for (let i = 0; revision + 1 < target - 1; i++) {
    if (held.length === sevenSlicePool.length) {
      decide({
        type: 'ReleaseGpu',
        target: { containerId: held.shift()! },
        reason: 'requested',
        ifNothingHeld: 'fail',
        now,
      });
    }
    const id = containerId(1_000_000 + i);
    decide({
      type: 'AllocateGpu',
      requestId: `history-${i}`,
      user: `user${i % 200}`,
      request: { count: 1, profile: null },
      containerId: id,
      limits: unlimited.limitsFor(),
      userStatus: 'active',
      inventory: sevenSlicePool,
      now,
    });
    held.push(id);
    if (batch.length >= 1000) await flush();
  }
  decide({
    type: 'ReleaseGpu',
    target: { containerId: held.shift()! },
    reason: 'requested',
    ifNothingHeld: 'fail',
    now,
  });
  await flush();
}

/**
 * The gateway's allocation step of `docker run --gpus 1`: a grant for the create, then bound to
 * the container dockerd answered with (released again, untimed, to keep the pool as it was).
 */
async function runGpus1(context: BenchContext): Promise<BenchResult[]> {
  const sizes = context.quick ? [1_000, 5_000] : [1_000, 1_000_000];
  const results: BenchResult[] = [];
  for (const size of sizes) {
    const host = `gateway-${size}`;
    const store = new SqliteEventStore({ path: join(context.workDir, `${host}.db`), codec: eventCatalog });
    const built = performance.now();
    await syntheticPoolHistory(store, host, size);
    const events = (await store.streamRevision(gpuPoolStream(host))) as number;
    console.log(
      `  pool stream: ${(events + 1).toLocaleString('en-US')} events (built in ${((performance.now() - built) / 1000).toFixed(1)} s)`,
    );
    const warm = allocatorOn(store, host);
    let round = 0;
    let last: { allocator: GpuAllocator; containerId: string } | null = null;
    const free = async () => {
      if (last) await last.allocator.release({ target: { container: last.containerId } }, actor);
      last = null;
    };
    const step = async (allocator: GpuAllocator) => {
      const id = containerId(0xd000_0000 + round++);
      const outcome = await allocator.allocateForCreate(
        { user: 'user7', request: { count: 1, profile: null } },
        actor,
      );
      if (!outcome.granted) throw new Error(`bench pool is full: ${outcome.message}`);
      await allocator.bindGrant(outcome.requestId, id, actor);
      last = { allocator, containerId: id };
    };
    const name = `docker run --gpus 1, the gateway's allocation step: ${(events + 1).toLocaleString('en-US')} events on the pool stream`;
    const whole = 'load the whole pool stream (a reader without snapshots)';
    let floorRevision: number | 'no_stream' = 'no_stream';
    const bareAppend = async () => {
      floorRevision = (
        await store.append('bench-floor', [bareEvent(containerId(1))], { expectedRevision: floorRevision })
      ).nextExpectedRevision;
    };
    const big = size > 100_000;
    const measured = await measureInterleaved([
      {
        name,
        variant: whole,
        eventsPerRepetition: 1,
        warmup: big ? 0 : 2,
        repetitions: big ? 2 : context.quick ? 5 : 30,
        run: async () => void (await new CommandHandler(store, gpuPoolDecider).load(gpuPoolStream(host))),
      },
      {
        name,
        variant: 'the floor: two bare appends (grant and bind are two durable appends)',
        eventsPerRepetition: 1,
        warmup: 5,
        repetitions: context.quick ? 20 : 300,
        run: async () => {
          await bareAppend();
          await bareAppend();
        },
      },
      {
        name,
        variant: 'cold: a new allocator (last snapshot + tail), grant + bind',
        eventsPerRepetition: 1,
        warmup: 3,
        repetitions: context.quick ? 20 : 300,
        before: free,
        run: () => step(allocatorOn(store, host)),
        baseline: whole,
      },
      {
        name,
        variant: "warm: ds01d's allocator (cached state + tail), grant + bind",
        eventsPerRepetition: 1,
        warmup: 5,
        repetitions: context.quick ? 20 : 300,
        before: free,
        run: () => step(warm),
        baseline: whole,
      },
    ]);
    await free();
    await store.close();
    for (const r of measured.slice(2)) {
      console.log(
        `  ${r.variant}: p99 ${r.p99Ms.toFixed(1)} ms (target < 20 ms: ${r.p99Ms < 20 ? 'met' : 'MISSED'})`,
      );
    }
    results.push(...measured);
  }
  return results;
}

const bench: BenchFile = {
  name: 'GPU allocation',
  description:
    'Round trips on the embedded store (WAL, synchronous=FULL): an allocate or a release through GpuAllocator — ' +
    "the user's limits, status and the pool's inventory gathered, the pool decided, the outcome appended with the " +
    'expected revision — timed from the command to the durable event, against a bare append of one event in the same ' +
    'run (target: p99 < 20 ms). Then one allocation decision on a pool stream holding 1,000 past allocations of 200 ' +
    'users: with the pool state cached (ds01d), cold (the stream read and folded), and the pure decision alone; ' +
    'against what ds01-infra does before every decision (gpu-state-reader: `docker ps -a`, then one `docker inspect` ' +
    'process per container) on 1,000 containers of the test dockerd — and it does that several times per decision. ' +
    "Last, the gateway's allocation step of `docker run --gpus 1` (allocateForCreate, then bindGrant once dockerd " +
    'names the container) on pool streams of 1,000 and 1,000,000 events with a snapshot every 200: cold (a new ' +
    "allocator reads the last snapshot and the tail) and warm (ds01d's), against loading the whole stream as a " +
    'reader without snapshots does (target: p99 < 20 ms at both sizes).',
  async run(context) {
    const results = await roundTrips(context);
    for (const r of results) {
      console.log(
        `  ${r.variant}: p99 ${r.p99Ms.toFixed(1)} ms (target < 20 ms: ${r.p99Ms < 20 ? 'met' : 'MISSED'})`,
      );
    }
    const runId = randomUUID().slice(0, 8);
    const count = context.quick ? 50 : 1000;
    try {
      const containers = await makeContainers(count, runId);
      results.push(...(await decisions(context, containers)));
    } finally {
      await removeContainers(runId).catch(() => {});
    }
    results.push(...(await runGpus1(context)));
    return results;
  },
};

export default bench;
