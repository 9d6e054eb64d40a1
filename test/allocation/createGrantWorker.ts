/**
 * One process of the create-grant race: the gateway's allocation path (allocateForCreate, then
 * bindGrant, releaseGrant, or nothing — a create that never answered) on a shared store, with
 * snapshots every few events and a fresh (cold) allocator now and then, so that decisions are taken
 * from snapshots and tails read while other processes append. Prints one JSON line per request.
 *
 *   node test/allocation/createGrantWorker.ts '<json: {storePath, host, startAt, worker, requests}>'
 */

import { fixedInventory, GpuAllocator } from '@ds01/allocation';
import { eventCatalog, GrantNotPendingError } from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import { sevenSlicePool } from '../../packages/domain/test/allocation/pools.ts';

interface WorkerInput {
  storePath: string;
  host: string;
  startAt: number;
  worker: number;
  requests: number;
}

const input = JSON.parse(process.argv[2]!) as WorkerInput;
const store = new SqliteEventStore({ path: input.storePath, codec: eventCatalog, busyTimeoutMs: 60_000 });
const allocatorOf = () =>
  new GpuAllocator({
    store,
    host: input.host,
    limits: {
      limitsFor: () => ({
        quotaGpuEquivalents: null,
        perContainerSlotCap: null,
        allowFullGpu: false,
        holdAfterStopHours: 0.25,
        aggregateGpuLimit: null,
      }),
    },
    inventory: fixedInventory(sevenSlicePool),
    users: { statusOf: async () => 'active' },
    snapshotEvery: 7,
  });
const actor = { kind: 'service' as const, name: `create-grant-worker-${process.pid}` };

while (Date.now() < input.startAt) {
  // Spin to the common start.
}
let allocator = allocatorOf();
const bound: string[] = [];
for (let i = 0; i < input.requests; i++) {
  if (i % 5 === 0) allocator = allocatorOf();
  const requestId = `w${input.worker}-${i}`;
  const outcome = await allocator.allocateForCreate(
    { user: `user${i % 13}`, request: { count: 1 + (i % 2), profile: null }, requestId, pendingForMs: 150 },
    actor,
  );
  let fate = 'denied';
  if (outcome.granted) {
    const containerId = `${input.worker.toString(16)}${i.toString(16).padStart(63, '0')}`;
    if (i % 3 === 0) {
      try {
        await allocator.bindGrant(requestId, containerId, actor);
        bound.push(containerId);
        fate = 'bound';
      } catch (error) {
        if (!(error instanceof GrantNotPendingError)) throw error;
        fate = 'expired-before-bind';
      }
    } else if (i % 3 === 1) {
      await allocator.releaseGrant(requestId, actor);
      fate = 'released';
    } else {
      fate = 'left';
    }
  }
  if (bound.length > 2) await allocator.release({ target: { container: bound.shift()! } }, actor);
  process.stdout.write(
    `${JSON.stringify({ requestId, fate, slots: outcome.granted ? outcome.slots.map((s) => s.slot) : [] })}\n`,
  );
}
await store.close();
