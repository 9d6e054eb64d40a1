import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixedInventory, GpuAllocator, type LimitsSource } from '@ds01/allocation';
import { type AllocationLimits, eventCatalog, type PoolSlot, type UserStatus } from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';

export const allocatorActor = { kind: 'service' as const, name: 'allocator-test' };

/** A fresh store file in its own folder; `cleanup` closes and removes it. */
export function tempStore(name = 'events.db') {
  const folder = mkdtempSync(join(tmpdir(), 'ds01-allocator-'));
  const path = join(folder, name);
  const opened: SqliteEventStore[] = [];
  return {
    path,
    folder,
    open(): SqliteEventStore {
      const store = new SqliteEventStore({ path, codec: eventCatalog, busyTimeoutMs: 20_000 });
      opened.push(store);
      return store;
    },
    async cleanup() {
      await Promise.all(opened.map((s) => s.close()));
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** The same limits for everyone (or per user). */
export function limitsOf(
  limits: AllocationLimits,
  perUser: Record<string, AllocationLimits> = {},
): LimitsSource {
  return { limitsFor: (user) => (user !== null && perUser[user]) || limits };
}

export function allocatorOn(
  store: SqliteEventStore,
  options: {
    pool: readonly PoolSlot[];
    limits: LimitsSource;
    status?: (user: string) => UserStatus;
    clock?: () => Date;
    host?: string;
    snapshotEvery?: number;
  },
): GpuAllocator {
  return new GpuAllocator({
    store,
    host: options.host ?? 'testhost',
    limits: options.limits,
    inventory: fixedInventory(options.pool),
    users: { statusOf: async (user) => options.status?.(user) ?? 'active' },
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.snapshotEvery ? { snapshotEvery: options.snapshotEvery } : {}),
  });
}

/** Appends one domain event as a service of the host would (fresh ids, now); resolves to its log position. */
export async function recordEvent(
  store: Pick<SqliteEventStore, 'append'>,
  stream: string,
  event: { type: string; data: unknown },
  host = 'testhost',
): Promise<number> {
  const now = new Date().toISOString();
  const appended = await store.append(stream, [
    {
      ...event,
      metadata: {
        eventId: randomUUID(),
        occurredAt: now,
        actor: { kind: 'service', name: 'test' },
        host,
        correlationId: randomUUID(),
        causationId: null,
      },
    },
  ]);
  return appended.position;
}
