// GPU allocation on the embedded store: allocate/release round trips from command to durable event
// against a bare append of one event in the same run; then one decision on a pool stream with 200
// users and 1,000 past allocations (cold, cached, pure decide) against what ds01-infra does for every
// decision: `docker ps -a` and one `docker inspect` process per container, on the real test dockerd.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fixedInventory, GpuAllocator } from '@ds01/allocation';
import {
  type AllocateGpu,
  decideGpuPool,
  eventCatalog,
  GpuAllocated,
  gpuPoolStream,
  type PoolState,
} from '@ds01/domain';
import { type NewEvent, newEventId, SqliteEventStore } from '@ds01/event-store';
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

function allocatorOn(store: SqliteEventStore, host: string): GpuAllocator {
  return new GpuAllocator({
    store,
    host,
    limits: unlimited,
    inventory: fixedInventory(sevenSlicePool),
    users: { statusOf: async () => 'active' },
  });
}

/** Allocate and release, each from the command to its durable event, against one bare append. */
async function roundTrips(context: BenchContext): Promise<BenchResult[]> {
  const store = new SqliteEventStore({ path: join(context.workDir, 'round-trips.db'), codec: eventCatalog });
  const allocator = allocatorOn(store, 'bench');
  const [a, b] = [containerId(1), containerId(2)];
  const holds = async (id: string) =>
    [...(await allocator.state()).holdings.values()].some((h) => h.containerId === id);
  let revision: number | 'no_stream' = 'no_stream';
  const bareEvent = (): NewEvent => ({
    ...GpuAllocated({
      requestId: randomUUID(),
      slot: '0.0',
      gpuIndex: 0,
      profile: '1g.10gb',
      gpuEquivalents: 1 / 7,
      deviceId: 'MIG-bench',
      user: 'alice',
      containerId: a,
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
          revision = (await store.append('bench-bare', [bareEvent()], { expectedRevision: revision }))
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

const bench: BenchFile = {
  name: 'GPU allocation',
  description:
    'Round trips on the embedded store (WAL, synchronous=FULL): an allocate or a release through GpuAllocator — ' +
    "the user's limits, status and the pool's inventory gathered, the pool decided, the outcome appended with the " +
    'expected revision — timed from the command to the durable event, against a bare append of one event in the same ' +
    'run (target: p99 < 20 ms). Then one allocation decision on a pool stream holding 1,000 past allocations of 200 ' +
    'users: with the pool state cached (ds01d), cold (the stream read and folded), and the pure decision alone; ' +
    'against what ds01-infra does before every decision (gpu-state-reader: `docker ps -a`, then one `docker inspect` ' +
    'process per container) on 1,000 containers of the test dockerd — and it does that several times per decision.',
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
    return results;
  },
};

export default bench;
