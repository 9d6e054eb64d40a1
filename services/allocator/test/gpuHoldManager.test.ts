import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AllocatorError } from '@ds01/allocation';
import {
  ContainerRemoved,
  ContainerStarted,
  ContainerStopped,
  containerStream,
  type GpuPoolEvent,
  gpuPoolStream,
} from '@ds01/domain';
import type { SqliteEventStore } from '@ds01/event-store';
import { afterEach, describe, expect, it } from 'vitest';
import {
  allocatorActor as actor,
  allocatorOn,
  limitsOf,
  recordEvent,
  tempStore,
} from '../../../packages/allocation/test/support.ts';
import { mixedPool, studentLimits } from '../../../packages/domain/test/allocation/pools.ts';
import { GpuHoldManager } from '../src/index.ts';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const T0 = Date.parse('2026-03-02T10:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const ref = (containerId: string) => ({
  containerId,
  name: 'train',
  observation: 'observed' as const,
  dockerEvent: null,
});

/** A container's stop (not an OOM kill) at `finishedAt`. */
const stopOf = (containerId: string, finishedAt: string, exitCode = 0) =>
  ContainerStopped({ ...ref(containerId), exitCode, oomKilled: false, finishedAt });

let temp: ReturnType<typeof tempStore>;
let manager: GpuHoldManager | undefined;
afterEach(async () => {
  await manager?.stop();
  manager = undefined;
  await temp.cleanup();
});

const record = (store: SqliteEventStore, containerId: string, event: { type: string; data: unknown }) =>
  recordEvent(store, containerStream(containerId), event);

async function poolEvents(store: SqliteEventStore): Promise<GpuPoolEvent[]> {
  const events: GpuPoolEvent[] = [];
  for await (const e of store.readStream(gpuPoolStream('testhost')))
    events.push({ type: e.type, data: e.data } as GpuPoolEvent);
  return events;
}

/** A fresh store where alice's container A holds one GPU; the allocator's clock is `clock.now`. */
async function aliceHoldsOneGpu() {
  temp = tempStore();
  const store = temp.open();
  const clock = { now: new Date(at(0)) };
  const allocator = allocatorOn(store, {
    pool: mixedPool,
    limits: limitsOf(studentLimits),
    clock: () => clock.now,
  });
  await allocator.allocate({ user: 'alice', request: { count: 1, profile: null }, containerId: A }, actor);
  return { store, allocator, clock };
}

describe('GPU hold manager: container life → pool commands', () => {
  it('expires no hold before the docker watcher has reconciled: a start it finds late keeps the GPU', {
    timeout: 30_000,
  }, async () => {
    const { store, allocator, clock } = await aliceHoldsOneGpu();
    let reconciled!: () => void;
    manager = new GpuHoldManager({
      store,
      allocator,
      checkpointPath: join(temp.folder, 'holds.checkpoint'),
      expiryIntervalMs: 3_600_000,
      dockerReconciled: new Promise<void>((resolve) => {
        reconciled = resolve;
      }),
    });
    await manager.start();
    clock.now = new Date(at(2));
    await manager.waitFor(await record(store, A, stopOf(A, at(1))));
    // ds01d was down past the hold's end; Docker's first round failed, so nothing expires yet.
    clock.now = new Date(at(30));
    let expired = false;
    const expiry = manager.expireNow().then(() => {
      expired = true;
    });
    await manager.caughtUp();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(expired).toBe(false);
    // The watcher's later reconciliation finds the container running again (started within the hold).
    await manager.waitFor(await record(store, A, ContainerStarted({ ...ref(A), startedAt: at(10) })));
    reconciled();
    await expiry;
    const types = (await poolEvents(store)).map((e) => e.type);
    expect(types.slice(-2)).toEqual(['GpuHoldStarted', 'GpuHoldEnded']);
    expect(types).not.toContain('GpuHoldExpired');
  });

  it('holds on stop, keeps on restart, expires on its timer, releases on removal', {
    timeout: 30_000,
  }, async () => {
    const { store, allocator, clock } = await aliceHoldsOneGpu();
    await allocator.allocate({ user: 'bob', request: { count: 1, profile: 'full' }, containerId: B }, actor);
    manager = new GpuHoldManager({
      store,
      allocator,
      checkpointPath: join(temp.folder, 'holds.checkpoint'),
      expiryIntervalMs: 3_600_000,
    });
    await manager.start();

    clock.now = new Date(at(2));
    await manager.waitFor(await record(store, A, stopOf(A, at(1))));
    await manager.waitFor(await record(store, A, ContainerStarted({ ...ref(A), startedAt: at(5) })));
    await manager.waitFor(await record(store, A, stopOf(A, at(6), 137)));
    clock.now = new Date(at(20));
    await manager.expireNow();
    expect((await poolEvents(store)).at(-1)?.type).toBe('GpuHoldStarted');
    clock.now = new Date(at(21));
    await manager.expireNow();
    await manager.waitFor(await record(store, B, ContainerRemoved(ref(B))));

    const events = (await poolEvents(store)).slice(3);
    expect(events).toEqual([
      {
        type: 'GpuHoldStarted',
        data: { containerId: A, user: 'alice', slots: ['0.2'], stoppedAt: at(1), expiresAt: at(16) },
      },
      { type: 'GpuHoldEnded', data: { containerId: A, at: at(5) } },
      {
        type: 'GpuHoldStarted',
        data: { containerId: A, user: 'alice', slots: ['0.2'], stoppedAt: at(6), expiresAt: at(21) },
      },
      { type: 'GpuHoldExpired', data: { containerId: A, expiresAt: at(21), at: at(21) } },
      {
        type: 'GpuReleased',
        data: { slot: '0.2', user: 'alice', containerId: A, reason: 'hold_expired', at: at(21) },
      },
      {
        type: 'GpuReleased',
        data: { slot: '2', user: 'bob', containerId: B, reason: 'container_removed', at: at(21) },
      },
    ]);
  });

  it('resumes from its checkpoint: a restart handles no container event twice', {
    timeout: 30_000,
  }, async () => {
    temp = tempStore();
    const store = temp.open();
    const allocator = allocatorOn(store, { pool: mixedPool, limits: limitsOf(studentLimits) });
    await allocator.allocate({ user: 'alice', request: { count: 1, profile: null }, containerId: A }, actor);
    await allocator.allocate({ user: 'bob', request: { count: 1, profile: null }, containerId: B }, actor);
    const checkpointPath = join(temp.folder, 'holds.checkpoint');
    const options = { store, allocator, checkpointPath, expiryIntervalMs: 3_600_000 };
    manager = new GpuHoldManager(options);
    await manager.start();
    const stop = await record(store, A, stopOf(A, new Date().toISOString()));
    await manager.waitFor(stop);
    await manager.stop();
    const before = (await poolEvents(store)).length;

    manager = new GpuHoldManager(options);
    expect(manager.position).toBe(stop);
    await manager.start();
    const started = await record(
      store,
      B,
      ContainerStarted({ ...ref(B), startedAt: new Date().toISOString() }),
    );
    await manager.waitFor(started);
    expect((await poolEvents(store)).length).toBe(before);
  });

  it('after a restart, a container started again within its hold keeps its GPUs, even past the hold', {
    timeout: 30_000,
  }, async () => {
    const { store, allocator, clock } = await aliceHoldsOneGpu();
    const options = {
      store,
      allocator,
      checkpointPath: join(temp.folder, 'holds.checkpoint'),
      expiryIntervalMs: 3_600_000,
    };
    manager = new GpuHoldManager(options);
    await manager.start();
    await manager.waitFor(await record(store, A, stopOf(A, at(1))));
    await manager.stop();
    // While the manager is down: the container starts again within the hold (15 minutes) ...
    await record(store, A, ContainerStarted({ ...ref(A), startedAt: at(5) }));
    // ... and the manager comes back after the hold's end.
    clock.now = new Date(at(60));
    manager = new GpuHoldManager(options);
    await manager.start();
    await manager.caughtUp();
    await manager.expireNow();

    const types = (await poolEvents(store)).map((e) => e.type);
    expect(types.slice(-2)).toEqual(['GpuHoldStarted', 'GpuHoldEnded']);
    expect((await allocator.state()).holdings.get('0.2')).toMatchObject({ containerId: A });
  });

  it('the timer never expires a hold whose container started again, even before the start is handled', {
    timeout: 30_000,
  }, async () => {
    const { store, allocator, clock } = await aliceHoldsOneGpu();
    await allocator.startHold(A, new Date(at(1)), actor);
    await record(store, A, ContainerStarted({ ...ref(A), startedAt: at(5) }));
    clock.now = new Date(at(60));
    // No hold manager has read the start: the pool still has the hold; the expiry reads the stream.
    const events = await allocator.expireHolds(actor);
    expect(events.map((e) => ({ type: e.type, data: e.data }))).toEqual([
      { type: 'GpuHoldEnded', data: { containerId: A, at: at(5) } },
    ]);
  });

  it('refuses a checkpoint file it cannot read, saying how to recover', () => {
    temp = tempStore();
    const path = join(temp.folder, 'holds.checkpoint');
    writeFileSync(path, 'garbage');
    const store = temp.open();
    const allocator = allocatorOn(store, { pool: mixedPool, limits: limitsOf(studentLimits) });
    expect(
      () => new GpuHoldManager({ store, allocator, checkpointPath: path, expiryIntervalMs: 1000 }),
    ).toThrow(AllocatorError);
  });
});
