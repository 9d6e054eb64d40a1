/**
 * One of the processes of the concurrency test: opens the shared store file and issues its
 * allocate requests through the real command path (GpuAllocator), all at once with the other
 * workers (they wait for a common start instant), and prints one JSON line per outcome.
 *
 *   node test/allocation/allocateWorker.ts '<json: {storePath, host, startAt, requests, quota}>'
 */

import { fixedInventory, GpuAllocator } from '@ds01/allocation';
import { eventCatalog } from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import { sevenSlicePool } from '../../packages/domain/test/allocation/pools.ts';

interface WorkerInput {
  storePath: string;
  host: string;
  startAt: number;
  quota: number;
  requests: Array<{ user: string; requestId: string }>;
}

const input = JSON.parse(process.argv[2]!) as WorkerInput;
const store = new SqliteEventStore({ path: input.storePath, codec: eventCatalog, busyTimeoutMs: 60_000 });
const allocator = new GpuAllocator({
  store,
  host: input.host,
  limits: {
    limitsFor: () => ({
      quotaGpuEquivalents: input.quota,
      perContainerSlotCap: null,
      allowFullGpu: false,
      holdAfterStopHours: 0.25,
      aggregateGpuLimit: null,
    }),
  },
  inventory: fixedInventory(sevenSlicePool),
  users: { statusOf: async () => 'active' },
});
const actor = { kind: 'service' as const, name: `allocate-worker-${process.pid}` };

while (Date.now() < input.startAt) {
  // Spin to the common start: every worker's first append races the others'.
}
// Every request in flight at once: within this process they queue on the store's write lock too.
const outcomes = await Promise.all(
  input.requests.map((r) =>
    allocator.allocate(
      { user: r.user, request: { count: 1, profile: null }, containerId: null, requestId: r.requestId },
      actor,
    ),
  ),
);
for (const outcome of outcomes) {
  process.stdout.write(
    `${JSON.stringify({
      requestId: outcome.requestId,
      granted: outcome.granted,
      slots: outcome.granted ? outcome.slots.map((s) => s.slot) : [],
      reason: outcome.granted ? null : outcome.reason.code,
      retries: outcome.retries,
      pid: process.pid,
    })}\n`,
  );
}
await store.close();
