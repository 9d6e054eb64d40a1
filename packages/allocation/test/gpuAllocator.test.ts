import { execFileSync } from 'node:child_process';
import { gpuPoolStream, NothingToReleaseError, UserDeparted, userStream } from '@ds01/domain';
import { afterEach, describe, expect, it } from 'vitest';
import {
  mixedInventory,
  mixedPool,
  sevenSlicePool,
  studentLimits,
} from '../../../packages/domain/test/allocation/pools.ts';
import {
  hostUserStatus,
  InvalidGpuRequestError,
  InventoryUnavailableError,
  inventoryFrom,
} from '../src/index.ts';
import { allocatorActor as actor, allocatorOn, limitsOf, recordEvent, tempStore } from './support.ts';

const containerA = 'a'.repeat(64);
const containerB = 'b'.repeat(64);
let temp: ReturnType<typeof tempStore>;
afterEach(async () => temp.cleanup());

async function poolEvents(store: {
  readStream: (id: string) => AsyncIterable<{ type: string; data: unknown }>;
}) {
  const events: Array<{ type: string; data: unknown }> = [];
  for await (const e of store.readStream(gpuPoolStream('testhost')))
    events.push({ type: e.type, data: e.data });
  return events;
}

describe('GpuAllocator on the embedded store', () => {
  it('records grants and denials on the pool stream', async () => {
    temp = tempStore();
    const store = temp.open();
    const allocator = allocatorOn(store, { pool: mixedPool, limits: limitsOf(studentLimits) });
    const granted = await allocator.allocate(
      { user: 'alice', request: { count: 1, profile: '3g.40gb' }, containerId: containerA },
      actor,
    );
    expect(granted).toMatchObject({
      granted: true,
      slots: [{ slot: '0.0', user: 'alice', containerId: containerA }],
    });
    const denied = await allocator.allocate(
      { user: 'alice', request: { count: 2, profile: null }, containerId: containerA },
      actor,
    );
    expect(denied).toMatchObject({
      granted: false,
      reason: { code: 'over_container_cap', held: 1, requested: 2, cap: 2 },
    });
    expect((await poolEvents(store)).map((e) => e.type)).toEqual([
      'GpuPoolInventoryRecorded',
      'GpuAllocated',
      'GpuAllocationDenied',
    ]);
  });

  it('decides again on the new state when another writer appended first: a slot is never granted twice', async () => {
    temp = tempStore();
    const onePool = sevenSlicePool.slice(0, 1);
    const first = allocatorOn(temp.open(), { pool: onePool, limits: limitsOf(studentLimits) });
    const second = allocatorOn(temp.open(), { pool: onePool, limits: limitsOf(studentLimits) });
    await second.state(); // caches the empty pool
    await first.allocate(
      { user: 'alice', request: { count: 1, profile: null }, containerId: containerA },
      actor,
    );
    const late = await second.allocate(
      { user: 'bob', request: { count: 1, profile: null }, containerId: containerB },
      actor,
    );
    expect(late).toMatchObject({ granted: false, reason: { code: 'no_free_slot', free: 0 } });
  });

  it('refuses malformed requests with the field, the value and what to do', async () => {
    temp = tempStore();
    const allocator = allocatorOn(temp.open(), { pool: mixedPool, limits: limitsOf(studentLimits) });
    const bad = (input: Parameters<typeof allocator.allocate>[0]) => allocator.allocate(input, actor);
    await expect(
      bad({ user: 'alice', request: { count: 1, profile: null }, containerId: 'train' }),
    ).rejects.toMatchObject({
      name: 'InvalidGpuRequestError',
      message: 'container "train": must be a full 64-character Docker container id',
      hint: 'give the full id: docker inspect --format {{.Id}} NAME',
    });
    const profile = bad({ user: 'alice', request: { count: 1, profile: '3g' }, containerId: null });
    await expect(profile).rejects.toBeInstanceOf(InvalidGpuRequestError);
    await expect(profile).rejects.toMatchObject({
      field: 'request.profile',
      value: { count: 1, profile: '3g' },
    });
    await expect(
      bad({ user: '', request: { count: 1, profile: null }, containerId: null }),
    ).rejects.toMatchObject({
      field: 'user',
    });
    await expect(
      bad({ user: 'alice', request: { count: 0, profile: null }, containerId: null }),
    ).rejects.toMatchObject({
      field: 'request.count',
    });
    expect(await poolEvents(temp.open())).toEqual([]);
  });

  it('releases by container id prefix, by slot, and says when nothing is held', async () => {
    temp = tempStore();
    const allocator = allocatorOn(temp.open(), { pool: mixedPool, limits: limitsOf(studentLimits) });
    await allocator.allocate(
      { user: 'alice', request: { count: 2, profile: null }, containerId: containerA },
      actor,
    );
    await allocator.allocate(
      { user: 'bob', request: { count: 1, profile: 'full' }, containerId: containerB },
      actor,
    );
    expect(await allocator.release({ target: { container: 'aaaa' } }, actor)).toEqual({
      released: [
        { slot: '0.2', user: 'alice', containerId: containerA },
        { slot: '1.2', user: 'alice', containerId: containerA },
      ],
    });
    await expect(allocator.release({ target: { container: 'aaaa' } }, actor)).rejects.toMatchObject({
      name: 'InvalidGpuRequestError',
      hint: '`ds01 gpu status` lists the containers that hold GPUs',
    });
    expect(await allocator.release({ target: { slot: '2' } }, actor)).toEqual({
      released: [{ slot: '2', user: 'bob', containerId: containerB }],
    });
    await expect(allocator.release({ target: { slot: '2' } }, actor)).rejects.toBeInstanceOf(
      NothingToReleaseError,
    );
    expect(await allocator.release({ target: { slot: '2' }, ifNothingHeld: 'ignore' }, actor)).toEqual({
      released: [],
    });
  });

  it("holds a stopped container's GPUs for its owner's gpu_hold_after_stop_h", async () => {
    temp = tempStore();
    let now = new Date('2026-03-02T10:00:00Z');
    const allocator = allocatorOn(temp.open(), {
      pool: mixedPool,
      limits: limitsOf(studentLimits, { bob: { ...studentLimits, holdAfterStopHours: 2 } }),
      clock: () => now,
    });
    await allocator.allocate(
      { user: 'bob', request: { count: 1, profile: null }, containerId: containerB },
      actor,
    );
    const started = await allocator.startHold(containerB, new Date('2026-03-02T10:30:00Z'), actor);
    expect(started).toMatchObject([
      { type: 'GpuHoldStarted', data: { expiresAt: '2026-03-02T12:30:00.000Z' } },
    ]);
    now = new Date('2026-03-02T12:29:59Z');
    expect(await allocator.expireHolds(actor)).toEqual([]);
    now = new Date('2026-03-02T12:30:00Z');
    expect((await allocator.expireHolds(actor)).map((e) => e.type)).toEqual([
      'GpuHoldExpired',
      'GpuReleased',
    ]);
    expect(await allocator.startHold(containerA, now, actor)).toEqual([]);
  });
});

describe('user status from the log and the host', () => {
  it('active for an account of the host, unknown for nobody, departed after UserDeparted', async () => {
    temp = tempStore();
    const store = temp.open();
    const status = hostUserStatus(store);
    expect(await status.statusOf('root')).toBe('active');
    expect(await status.statusOf('ds01-nobody-like-this')).toBe('unknown');
    const root = execFileSync('id', ['-un']).toString().trim();
    await recordEvent(store, userStream(root), UserDeparted({ user: root, reason: 'left the lab' }));
    expect(await status.statusOf(root)).toBe('departed');
  });
});

describe('inventory from the host', () => {
  it("gives the inventory's allocatable slots", async () => {
    const slots = await inventoryFrom(async () => mixedInventory, 'test').current();
    expect(slots).toEqual(mixedPool);
  });

  it('refuses to decide against an inventory it could not read, or before there is one', async () => {
    const failing = inventoryFrom(
      async () => Promise.reject(new Error('exit 9')),
      'nvidia-smi (/usr/bin/nvidia-smi)',
    );
    await expect(failing.current()).rejects.toBeInstanceOf(InventoryUnavailableError);
    await expect(failing.current()).rejects.toThrow(
      'cannot read the GPU inventory from nvidia-smi (/usr/bin/nvidia-smi): exit 9',
    );
    const empty = inventoryFrom(async () => ({ source: 'simulated', gpus: [] }), 'ds01.yaml');
    await expect(empty.current()).rejects.toMatchObject({
      message: 'the GPU inventory from ds01.yaml has no device to allocate',
    });
    const none = inventoryFrom(async () => null, 'the log');
    await expect(none.current()).rejects.toMatchObject({
      message: 'no GPU inventory yet from the log',
      hint: 'start ds01d (its gpu-sampler records the GPUs), or configure gpus: in ds01.yaml',
    });
  });
});
