import {
  evolvePool,
  type GpuPoolEvent,
  GrantNotPendingError,
  gpuPoolStream,
  initialPoolState,
  type PoolState,
} from '@ds01/domain';
import type { EventStore, RecordedEvent } from '@ds01/event-store';
import { afterEach, describe, expect, it } from 'vitest';
import { sevenSlicePool, studentLimits } from '../../../packages/domain/test/allocation/pools.ts';
import { allocatorActor as actor, allocatorOn, limitsOf, tempStore } from './support.ts';

const containerA = 'a'.repeat(64);
const containerB = 'b'.repeat(64);
const stream = gpuPoolStream('testhost');
let temp: ReturnType<typeof tempStore>;
afterEach(async () => temp.cleanup());

const unlimited = limitsOf({ ...studentLimits, quotaGpuEquivalents: null, perContainerSlotCap: null });

/** A clock the test moves. */
function testClock(start = Date.parse('2026-12-03T12:00:00Z')) {
  let now = start;
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}

/** The store, counting the events its stream reads hand out. */
function counting(store: EventStore) {
  const counter = { read: 0 };
  const wrapped = new Proxy(store, {
    get(target, key, receiver) {
      if (key !== 'readStream') return Reflect.get(target, key, receiver);
      return async function* (...args: Parameters<EventStore['readStream']>) {
        for await (const event of target.readStream(...args)) {
          counter.read++;
          yield event;
        }
      };
    },
  });
  return { store: wrapped, counter };
}

async function foldFromStart(store: EventStore): Promise<{ state: PoolState; events: RecordedEvent[] }> {
  const events: RecordedEvent[] = [];
  for await (const e of store.readStream(stream)) events.push(e);
  const state = events.reduce<PoolState>(
    (s, e) => evolvePool(s, { type: e.type, data: e.data } as GpuPoolEvent),
    initialPoolState(),
  );
  return { state, events };
}

describe("the gateway's allocation path: a grant for a create, bound to the container dockerd names", () => {
  it('allocateForCreate grants pending; bindGrant gives the slots to the container; a cold reader agrees', async () => {
    temp = tempStore();
    const store = temp.open();
    const allocator = allocatorOn(store, { pool: sevenSlicePool, limits: unlimited });
    const outcome = await allocator.allocateForCreate(
      { user: 'alice', request: { count: 2, profile: null }, requestId: 'create-1' },
      actor,
    );
    if (!outcome.granted) throw new Error(outcome.message);
    expect(outcome.slots.every((s) => s.containerId === null && s.pendingUntil !== undefined)).toBe(true);
    expect((await allocator.state()).pending.get('create-1')?.slots).toHaveLength(2);

    const bound = await allocator.bindGrant('create-1', containerA, actor);
    expect(bound.map((h) => h.slot)).toEqual(outcome.slots.map((s) => s.slot));
    // Idempotent: the gateway may retry a bind whose answer it lost.
    expect(await allocator.bindGrant('create-1', containerA, actor)).toHaveLength(2);

    const cold = allocatorOn(temp.open(), { pool: sevenSlicePool, limits: unlimited });
    const state = await cold.state();
    expect(state.pending.size).toBe(0);
    expect([...state.holdings.values()].map((h) => h.containerId)).toEqual([containerA, containerA]);
  });

  it('releaseGrant (dockerd refused the create) frees the slots', async () => {
    temp = tempStore();
    const allocator = allocatorOn(temp.open(), { pool: sevenSlicePool, limits: unlimited });
    await allocator.allocateForCreate(
      { user: 'alice', request: { count: 1, profile: null }, requestId: 'c' },
      actor,
    );
    const released = await allocator.releaseGrant('c', actor);
    expect(released.released).toHaveLength(1);
    expect((await allocator.state()).holdings.size).toBe(0);
    expect((await allocator.releaseGrant('c', actor)).released).toEqual([]);
  });

  it('a grant nobody binds is released at its deadline: by the next allocation, or by the hold timer', async () => {
    temp = tempStore();
    const clock = testClock();
    const onePool = sevenSlicePool.slice(0, 1);
    const allocator = allocatorOn(temp.open(), { pool: onePool, limits: unlimited, clock: clock.now });
    await allocator.allocateForCreate(
      { user: 'alice', request: { count: 1, profile: null }, requestId: 'lost', pendingForMs: 60_000 },
      actor,
    );
    const tooEarly = await allocator.allocate(
      { user: 'bob', request: { count: 1, profile: null }, containerId: containerB },
      actor,
    );
    expect(tooEarly).toMatchObject({ granted: false, reason: { code: 'no_free_slot' } });

    clock.advance(60_000);
    const after = await allocator.allocate(
      { user: 'bob', request: { count: 1, profile: null }, containerId: containerB },
      actor,
    );
    expect(after).toMatchObject({ granted: true, slots: [{ slot: onePool[0]!.slot, user: 'bob' }] });
    await expect(allocator.bindGrant('lost', containerA, actor)).rejects.toBeInstanceOf(GrantNotPendingError);

    await allocator.release({ target: { container: containerB } }, actor);
    await allocator.allocateForCreate(
      { user: 'carol', request: { count: 1, profile: null }, requestId: 'lost-2', pendingForMs: 1_000 },
      actor,
    );
    clock.advance(1_000);
    expect((await allocator.expireHolds(actor)).map((e) => e.type)).toEqual([
      'GpuGrantExpired',
      'GpuReleased',
    ]);
    expect((await allocator.state()).holdings.size).toBe(0);
  });
});

describe('pool snapshots', () => {
  it('a cold allocator reads back to the last snapshot, not the whole stream, and decides the same', async () => {
    temp = tempStore();
    const writer = allocatorOn(temp.open(), { pool: sevenSlicePool, limits: unlimited, snapshotEvery: 10 });
    const held: string[] = [];
    for (let i = 0; i < 120; i++) {
      const id = i.toString(16).padStart(64, '0');
      if (held.length === 20) await writer.release({ target: { container: held.shift()! } }, actor);
      await writer.allocate(
        { user: `u${i % 9}`, request: { count: 1, profile: null }, containerId: id },
        actor,
      );
      held.push(id);
    }
    await writer.allocateForCreate(
      { user: 'alice', request: { count: 1, profile: null }, requestId: 'p' },
      actor,
    );

    const { state: full, events } = await foldFromStart(temp.open());
    const snapshots = events.filter((e) => e.type === 'GpuPoolSnapshotTaken');
    expect(snapshots.length).toBeGreaterThan(15);
    // Each snapshot is the state folded up to the event before it.
    for (const snapshot of snapshots) {
      const before = events.slice(0, snapshot.revision);
      const folded = before.reduce<PoolState>(
        (s, e) => evolvePool(s, { type: e.type, data: e.data } as GpuPoolEvent),
        initialPoolState(),
      );
      expect(
        evolvePool(initialPoolState(), { type: 'GpuPoolSnapshotTaken', data: snapshot.data } as GpuPoolEvent),
      ).toEqual(folded);
      expect((snapshot.data as { revision: number }).revision).toBe(snapshot.revision - 1);
    }

    const { store, counter } = counting(temp.open());
    const cold = allocatorOn(store as never, { pool: sevenSlicePool, limits: unlimited, snapshotEvery: 10 });
    expect(await cold.state()).toEqual(full);
    expect(counter.read).toBeLessThanOrEqual(11);
    expect(counter.read).toBeLessThan(events.length / 10);
  });
});
