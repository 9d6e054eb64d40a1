import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AllocationLimits,
  evolvePool,
  type GpuPoolCommand,
  type GpuPoolEvent,
  GpuPoolSnapshotTaken,
  gpuEquivalentsHeldBy,
  gpuPoolDecider,
  initialPoolState,
  NothingToReleaseError,
  type PoolSlot,
  type PoolState,
  snapshotOfPoolState,
} from '../../src/index.ts';
import { mixedPool, NOW, sevenSlicePool, wholeGpuPool } from './pools.ts';

/**
 * Random command sequences against the pool decider. After every decision:
 *  - no slot is held twice, and no physical GPU carries more than one whole GPU's worth
 *    (also while MIG is reconfigured under held slots: the inventory changes between commands);
 *  - a grant never takes a user over their quota or group limit, nor a container over its cap;
 *  - every release frees exactly what was held, and nothing else changes hands;
 *  - folding the decided events from scratch gives the same state as deciding step by step;
 *  - a grant for a create (pending) is bound, released or expired whole, and holds its slots till then;
 *  - a snapshot of the state, folded, is that state.
 */

const USERS = ['u0', 'u1', 'u2', 'u3'];
const CONTAINERS = ['0', '1', '2', '3', '4'].map((d) => d.repeat(64));
const ownerOf = (containerIndex: number) => USERS[containerIndex % USERS.length]!;
const POOLS = [mixedPool, wholeGpuPool, sevenSlicePool];
const SLOT_NAMES = [...new Set(POOLS.flat().map((s) => s.slot))];
const EPS = 1e-9;

const limitsArb: fc.Arbitrary<AllocationLimits> = fc.record({
  quotaGpuEquivalents: fc.constantFrom(null, 0, 0.5, 1, 2, 3),
  perContainerSlotCap: fc.constantFrom(null, 1, 2, 3),
  allowFullGpu: fc.boolean(),
  holdAfterStopHours: fc.constantFrom(null, 0, 0.25, 1),
  aggregateGpuLimit: fc.constantFrom(null, 1, 1.5),
});

type Step =
  | {
      kind: 'allocate';
      container: number | null;
      count: number;
      profile: string | null;
      pool: number;
      user: number;
      pendingMinutes: number | null;
    }
  | { kind: 'releaseContainer'; container: number }
  | { kind: 'releaseSlot'; slot: string }
  | { kind: 'stop'; container: number; minutesAgo: number }
  | { kind: 'start'; container: number }
  | { kind: 'expire' }
  | { kind: 'bindGrant'; container: number }
  | { kind: 'releaseGrant' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('allocate' as const),
      container: fc.option(fc.integer({ min: 0, max: CONTAINERS.length - 1 }), { nil: null }),
      count: fc.integer({ min: 1, max: 3 }),
      profile: fc.constantFrom(null, 'full', '1g.10gb', '2g.20gb', '3g.40gb'),
      // Mostly the same pool; sometimes MIG is reconfigured under the held slots.
      pool: fc.constantFrom(0, 0, 0, 0, 1, 2),
      user: fc.integer({ min: 0, max: USERS.length - 1 }),
      /** For a container-less request: a grant for a create, pending this many minutes (null: plain). */
      pendingMinutes: fc.constantFrom(null, 1, 5, 20),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('releaseContainer' as const),
      container: fc.integer({ min: 0, max: CONTAINERS.length - 1 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('releaseSlot' as const), slot: fc.constantFrom(...SLOT_NAMES) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('stop' as const),
      container: fc.integer({ min: 0, max: CONTAINERS.length - 1 }),
      minutesAgo: fc.integer({ min: 0, max: 10 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('start' as const),
      container: fc.integer({ min: 0, max: CONTAINERS.length - 1 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'expire' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('bindGrant' as const),
      container: fc.integer({ min: 0, max: CONTAINERS.length - 1 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'releaseGrant' as const }) },
);

function commandOf(
  step: Step,
  now: Date,
  limits: Record<string, AllocationLimits>,
  i: number,
  state: PoolState,
): GpuPoolCommand | null {
  // Grant steps act on the oldest pending grant, if any.
  const pending = [...state.pending.keys()].sort()[0];
  switch (step.kind) {
    case 'bindGrant':
      return pending === undefined
        ? null
        : { type: 'BindGpuGrant', requestId: pending, containerId: CONTAINERS[step.container]!, now };
    case 'releaseGrant':
      return pending === undefined ? null : { type: 'ReleaseGpuGrant', requestId: pending, now };
    case 'allocate': {
      // A container's GPUs are asked for by its owner; a container-less request by anyone.
      const user = step.container === null ? USERS[step.user]! : ownerOf(step.container);
      return {
        type: 'AllocateGpu',
        requestId: `req-${i}`,
        user,
        request: { count: step.count, profile: step.profile },
        containerId: step.container === null ? null : CONTAINERS[step.container]!,
        ...(step.container === null && step.pendingMinutes !== null
          ? { pendingUntil: new Date(now.getTime() + step.pendingMinutes * 60_000) }
          : {}),
        limits: limits[user]!,
        userStatus: 'active',
        inventory: POOLS[step.pool]!,
        now,
      };
    }
    case 'releaseContainer':
      return {
        type: 'ReleaseGpu',
        target: { containerId: CONTAINERS[step.container]! },
        reason: 'requested',
        ifNothingHeld: 'fail',
        now,
      };
    case 'releaseSlot':
      return {
        type: 'ReleaseGpu',
        target: { slot: step.slot },
        reason: 'requested',
        ifNothingHeld: 'fail',
        now,
      };
    case 'stop': {
      const holdAfterStopHours = limits[ownerOf(step.container)]!.holdAfterStopHours;
      const stoppedAt = new Date(now.getTime() - step.minutesAgo * 60_000);
      return {
        type: 'StartGpuHold',
        containerId: CONTAINERS[step.container]!,
        stoppedAt,
        holdAfterStopHours,
        now,
      };
    }
    case 'start':
      return { type: 'EndGpuHold', containerId: CONTAINERS[step.container]!, startedAt: now, now };
    case 'expire':
      return { type: 'ExpireGpuHolds', now };
  }
}

function checkPhysicalInvariant(state: PoolState): void {
  const load = new Map<number, number>();
  for (const h of state.holdings.values())
    load.set(h.gpuIndex, (load.get(h.gpuIndex) ?? 0) + h.gpuEquivalents);
  for (const [gpu, total] of load) expect(total, `GPU ${gpu} is over-committed`).toBeLessThanOrEqual(1 + EPS);
}

function checkDecision(
  command: GpuPoolCommand,
  before: PoolState,
  events: GpuPoolEvent[],
  after: PoolState,
): void {
  let state = before;
  for (const event of events) {
    if (event.type === 'GpuAllocated') {
      expect(state.holdings.has(event.data.slot), `slot ${event.data.slot} granted twice`).toBe(false);
      expect(command.type).toBe('AllocateGpu');
    }
    if (event.type === 'GpuReleased') {
      const held = state.holdings.get(event.data.slot);
      expect(held, `released ${event.data.slot}, which nobody held`).toBeDefined();
      expect([event.data.user, event.data.containerId]).toEqual([held!.user, held!.containerId]);
    }
    state = evolvePool(state, event);
  }
  checkPhysicalInvariant(after);

  const changed = (slot: string) => before.holdings.get(slot) !== after.holdings.get(slot);
  const changedSlots = SLOT_NAMES.filter(changed);
  // Pending grants past their deadline are released by allocations and by the hold timer.
  const overdue =
    command.type === 'AllocateGpu' || command.type === 'ExpireGpuHolds'
      ? [...before.pending.values()].filter((g) => Date.parse(g.pendingUntil) <= command.now.getTime())
      : [];
  const overdueSlots = overdue.flatMap((g) => g.slots);
  for (const grant of overdue) expect(after.pending.has(grant.requestId)).toBe(false);
  for (const grant of after.pending.values()) {
    // A pending grant holds every slot it was given, with no container.
    for (const slot of grant.slots) expect(after.holdings.get(slot)?.containerId).toBeNull();
  }
  switch (command.type) {
    case 'AllocateGpu': {
      const grants = events.filter((e) => e.type === 'GpuAllocated');
      const denials = events.filter((e) => e.type === 'GpuAllocationDenied');
      expect(grants.length + denials.length > 0 && (grants.length === 0 || denials.length === 0)).toBe(true);
      if (denials.length > 0) {
        expect(changedSlots.sort()).toEqual([...overdueSlots].sort());
        break;
      }
      expect(grants).toHaveLength(command.request.count);
      const inventorySlots = new Map(command.inventory.map((s: PoolSlot) => [s.slot, s]));
      for (const grant of grants) {
        const slot = inventorySlots.get(grant.data.slot)!;
        expect(slot).toBeDefined();
        if (command.request.profile !== null) expect(grant.data.profile).toBe(command.request.profile);
        if (!command.limits.allowFullGpu) expect(grant.data.profile).not.toBe('full');
      }
      const {
        quotaGpuEquivalents: quota,
        aggregateGpuLimit: group,
        perContainerSlotCap: cap,
      } = command.limits;
      const held = gpuEquivalentsHeldBy(after, command.user);
      if (quota !== null) expect(held).toBeLessThanOrEqual(quota + EPS);
      if (group !== null) expect(held).toBeLessThanOrEqual(group + EPS);
      if (cap !== null && command.containerId !== null) {
        const inContainer = [...after.holdings.values()].filter((h) => h.containerId === command.containerId);
        expect(inContainer.length).toBeLessThanOrEqual(cap);
      }
      expect(changedSlots.sort()).toEqual(
        [...new Set([...grants.map((g) => g.data.slot), ...overdueSlots])].sort(),
      );
      if (command.pendingUntil && command.containerId === null) {
        expect(after.pending.get(command.requestId)?.slots).toHaveLength(grants.length);
      }
      break;
    }
    case 'BindGpuGrant': {
      const grant = before.pending.get(command.requestId)!;
      expect(changedSlots.sort()).toEqual([...grant.slots].sort());
      for (const slot of grant.slots) expect(after.holdings.get(slot)?.containerId).toBe(command.containerId);
      expect(after.pending.has(command.requestId)).toBe(false);
      break;
    }
    case 'ReleaseGpuGrant': {
      const grant = before.pending.get(command.requestId)!;
      expect(changedSlots.sort()).toEqual([...grant.slots].sort());
      for (const slot of grant.slots) expect(after.holdings.has(slot)).toBe(false);
      break;
    }
    case 'ReleaseGpu': {
      const target = command.target;
      const expected = [...before.holdings.values()]
        .filter((h) =>
          'containerId' in target ? h.containerId === target.containerId : h.slot === target.slot,
        )
        .map((h) => h.slot);
      expect(changedSlots.sort()).toEqual(expected.sort());
      for (const slot of expected) expect(after.holdings.has(slot)).toBe(false);
      break;
    }
    case 'ExpireGpuHolds': {
      const now = command.now.getTime();
      const expired = [...before.holds.values()].filter(
        (h) => h.expiresAt !== null && Date.parse(h.expiresAt) <= now,
      );
      const expected = [...before.holdings.values()]
        .filter((h) => expired.some((hold) => hold.containerId === h.containerId))
        .map((h) => h.slot);
      expect(changedSlots.sort()).toEqual([...expected, ...overdueSlots].sort());
      for (const hold of after.holds.values()) {
        if (hold.expiresAt !== null) expect(Date.parse(hold.expiresAt)).toBeGreaterThan(now);
      }
      break;
    }
    case 'StartGpuHold': {
      // A hold releases only what the container holds, and only when it has run out already.
      const own = [...before.holdings.values()]
        .filter((h) => h.containerId === command.containerId)
        .map((h) => h.slot);
      for (const slot of changedSlots) expect(own).toContain(slot);
      break;
    }
    default:
      expect(changedSlots).toEqual([]);
  }
}

/** What the runs exercised: the property must not pass by never reaching the interesting cases. */
function countOutcomes(seen: Map<string, number>, events: GpuPoolEvent[]): void {
  const bump = (key: string) => seen.set(key, (seen.get(key) ?? 0) + 1);
  for (const event of events) {
    if (event.type === 'GpuAllocationDenied') bump(event.data.reason.code);
    else if (event.type === 'GpuReleased') bump(`released:${event.data.reason}`);
    else bump(event.type);
  }
}

describe('GPU pool decider properties', () => {
  it('never grants a slot twice, keeps every limit, and releases exactly what was held', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(
        fc.array(limitsArb, { minLength: USERS.length, maxLength: USERS.length }),
        fc.array(fc.tuple(stepArb, fc.integer({ min: 0, max: 10 })), {
          minLength: 1,
          maxLength: 80,
          size: 'max',
        }),
        (limitList, steps) => {
          const limits = Object.fromEntries(USERS.map((u, i) => [u, limitList[i]!]));
          let state = initialPoolState();
          const log: GpuPoolEvent[] = [];
          let now = NOW.getTime();
          steps.forEach(([step, minutes], i) => {
            now += minutes * 60_000;
            const command = commandOf(step, new Date(now), limits, i, state);
            if (command === null) return;
            let events: GpuPoolEvent[];
            try {
              events = gpuPoolDecider.decide(command, state);
            } catch (error) {
              // The one refusal a decision may throw: releasing what nobody holds.
              expect(error).toBeInstanceOf(NothingToReleaseError);
              expect(command.type).toBe('ReleaseGpu');
              return;
            }
            const after = events.reduce(evolvePool, state);
            checkDecision(command, state, events, after);
            expect(
              evolvePool(initialPoolState(), GpuPoolSnapshotTaken(snapshotOfPoolState(after, i))),
            ).toEqual(after);
            countOutcomes(seen, events);
            log.push(...events);
            state = after;
          });
          const replayed = log.reduce(evolvePool, initialPoolState());
          expect(replayed).toEqual(state);
        },
      ),
      { numRuns: 400 },
    );
    for (const outcome of [
      'GpuAllocated',
      'GpuPoolInventoryRecorded',
      'GpuHoldStarted',
      'GpuHoldEnded',
      'GpuHoldExpired',
      'released:requested',
      'released:hold_expired',
      'released:grant_expired',
      'released:create_failed',
      'GpuGrantBound',
      'GpuGrantExpired',
      'over_quota',
      'over_group_limit',
      'over_container_cap',
      'full_gpu_not_allowed',
      'unknown_profile',
      'no_free_slot',
    ]) {
      expect(seen.get(outcome) ?? 0, `no run reached ${outcome}`).toBeGreaterThan(10);
    }
  });
});
