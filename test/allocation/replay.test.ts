import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { fixedInventory, GpuAllocator } from '@ds01/allocation';
import { eventCatalog } from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import {
  allocationProjection,
  holdingsAt,
  openProjectionsDb,
  ProjectionRunner,
  ReadModel,
} from '@ds01/projections';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { mixedPool, studentLimits } from '../../packages/domain/test/allocation/pools.ts';

const folder = mkdtempSync(join(tmpdir(), 'ds01-allocation-replay-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const USERS = ['ada', 'bo', 'cy'];
const CONTAINERS = ['1', '2', '3', '4'].map((d) => d.repeat(64));
const actor = { kind: 'service' as const, name: 'replay-test' };
const TABLES = ['gpu_pool_slots', 'gpu_holdings', 'gpu_holding_history', 'gpu_reconciliation_problems'];

const stepArb = fc.oneof(
  fc.record({
    kind: fc.constant('allocate' as const),
    container: fc.integer({ min: 0, max: CONTAINERS.length - 1 }),
    count: fc.integer({ min: 1, max: 2 }),
    profile: fc.constantFrom(null, 'full', '1g.10gb', '3g.40gb'),
  }),
  fc.record({
    kind: fc.constant('release' as const),
    container: fc.integer({ min: 0, max: CONTAINERS.length - 1 }),
  }),
  fc.record({
    kind: fc.constant('stop' as const),
    container: fc.integer({ min: 0, max: CONTAINERS.length - 1 }),
  }),
  fc.record({
    kind: fc.constant('start' as const),
    container: fc.integer({ min: 0, max: CONTAINERS.length - 1 }),
  }),
  fc.constant({ kind: 'expire' as const }),
);

function dump(db: DatabaseSync): Record<string, unknown[]> {
  return Object.fromEntries(
    TABLES.map((table) => [
      table,
      db
        .prepare(`SELECT * FROM ${table} ORDER BY 1, 2, 3`)
        .all()
        .map((r) => ({ ...r })),
    ]),
  );
}

/**
 * The allocation state is a projection of the log: kept live while commands run, it equals a
 * rebuild from position 0, the decider's own fold of the pool stream, and at every past moment
 * `who --at` gives what the pool held right after that moment's decision.
 */
describe('allocation projection replay', () => {
  it('live equals rebuilt equals the decider state, and the history answers for every past moment', {
    timeout: 120_000,
  }, async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 5, maxLength: 40, size: 'max' }), async (steps) => {
        run += 1;
        const store = new SqliteEventStore({ path: join(folder, `events-${run}.db`), codec: eventCatalog });
        const liveDb = openProjectionsDb(join(folder, `live-${run}.db`));
        const runner = new ProjectionRunner({ store, db: liveDb, projections: [allocationProjection] });
        await runner.start();
        let now = new Date('2026-03-02T08:00:00.000Z');
        const allocator = new GpuAllocator({
          store,
          host: 'replay',
          limits: { limitsFor: () => ({ ...studentLimits, holdAfterStopHours: 0.05 }) },
          inventory: fixedInventory(mixedPool),
          users: { statusOf: async () => 'active' },
          clock: () => now,
        });
        const snapshots: Array<{ at: Date; slots: string[] }> = [];
        for (const step of steps) {
          now = new Date(now.getTime() + 60_000);
          const containerId = 'container' in step ? CONTAINERS[step.container]! : '';
          const user = USERS[('container' in step ? step.container : 0) % USERS.length]!;
          if (step.kind === 'allocate') {
            await allocator.allocate(
              { user, request: { count: step.count, profile: step.profile }, containerId },
              actor,
            );
          } else if (step.kind === 'release') {
            await allocator.release({ target: { container: containerId }, ifNothingHeld: 'ignore' }, actor);
          } else if (step.kind === 'stop') {
            await allocator.startHold(containerId, now, actor);
          } else if (step.kind === 'start') {
            await allocator.endHold(containerId, now, actor);
          } else {
            await allocator.expireHolds(actor);
          }
          const held = [...(await allocator.state()).holdings.values()].map(
            (h) => `${h.slot}:${h.containerId}`,
          );
          snapshots.push({ at: now, slots: held.sort() });
        }
        await runner.waitFor(await store.headPosition());
        await runner.stop();

        // Live == decider: the holdings table is the pool state's holdings.
        const state = await allocator.state();
        const live = dump(liveDb);
        expect(
          (live['gpu_holdings'] as Array<{ slot: string; container_id: string }>)
            .map((r) => `${r.slot}:${r.container_id}`)
            .sort(),
        ).toEqual([...state.holdings.values()].map((h) => `${h.slot}:${h.containerId}`).sort());

        // Live == rebuild from position 0.
        const rebuiltDb = openProjectionsDb(join(folder, `rebuilt-${run}.db`));
        const rebuilder = new ProjectionRunner({ store, db: rebuiltDb, projections: [allocationProjection] });
        rebuilder.prepare();
        await rebuilder.rebuild(['allocation']);
        expect(dump(rebuiltDb)).toEqual(live);

        // Every past moment: who held what right after that moment's decision.
        const readModel = new ReadModel(join(folder, `rebuilt-${run}.db`));
        for (const { at, slots } of snapshots) {
          const who = holdingsAt(readModel, at, { host: 'replay' }).map((r) => `${r.slot}:${r.container_id}`);
          expect(who.sort()).toEqual(slots);
        }
        readModel.close();
        rebuiltDb.close();
        liveDb.close();
        await store.close();
      }),
      { numRuns: 15 },
    );
  });
});
