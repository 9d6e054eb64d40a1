import { describe, expect, it } from 'vitest';
import {
  type ExistingGpuContainer,
  GpuAllocated,
  GpuHoldStarted,
  GpuPoolReconciled,
  type ReconcileGpuPool,
} from '../../src/index.ts';
import { at, granted, recorded, spec } from './given.ts';
import { containerA, containerB, containerC, mixedPool, NOW, slotOf } from './pools.ts';

const grantedAt = new Date('2026-02-20T08:00:00.000Z');

function existing(overrides: Partial<ExistingGpuContainer>): ExistingGpuContainer {
  return {
    containerId: containerA,
    name: 'train._.1001',
    user: 'alice',
    devices: [],
    since: grantedAt,
    stoppedAt: null,
    holdAfterStopHours: 0.25,
    ...overrides,
  };
}

function reconcile(containers: ExistingGpuContainer[]): ReconcileGpuPool {
  return { type: 'ReconcileGpuPool', containers, inventory: mixedPool, now: NOW };
}

function reconciled(slot: string, containerId: string, user: string | null) {
  const { gpuIndex, profile, gpuEquivalents, deviceId } = slotOf(mixedPool, slot);
  return GpuAllocated({
    requestId: `ds01-infra:${containerId}`,
    slot,
    gpuIndex,
    profile,
    gpuEquivalents,
    deviceId,
    user,
    containerId,
    observation: 'reconciled',
    since: grantedAt.toISOString(),
  });
}

describe('ReconcileGpuPool: switch-over from ds01-infra', () => {
  it("records what each container holds, by MIG UUID, GPU UUID or ds01-infra's slot name", () => {
    const mig = slotOf(mixedPool, '1.0').deviceId;
    const gpu = slotOf(mixedPool, '3').deviceId;
    spec
      .given([])
      .when(
        reconcile([
          existing({ devices: [mig] }),
          existing({ containerId: containerB, user: 'bob', devices: [gpu, '2'] }),
        ]),
      )
      .then([
        recorded(),
        reconciled('1.0', containerA, 'alice'),
        reconciled('3', containerB, 'bob'),
        reconciled('2', containerB, 'bob'),
        GpuPoolReconciled({ source: 'ds01-infra', containersSeen: 2, slotsRecorded: 3, problems: 0, at }),
      ]);
  });

  it('puts a stopped container on hold from when it stopped, and releases at once a hold that ran out', () => {
    const stoppedAt = new Date(NOW.getTime() - 5 * 60_000);
    spec
      .given([recorded()])
      .when(
        reconcile([
          existing({ devices: ['0.0'], stoppedAt }),
          existing({ containerId: containerB, user: 'bob', devices: ['0.1'], stoppedAt: grantedAt }),
        ]),
      )
      .thenEvents((events) => {
        expect(events.map((e) => e.type)).toEqual([
          'GpuAllocated',
          'GpuHoldStarted',
          'GpuAllocated',
          'GpuHoldStarted',
          'GpuHoldExpired',
          'GpuReleased',
          'GpuPoolReconciled',
        ]);
        expect(events[1]).toEqual(
          GpuHoldStarted({
            containerId: containerA,
            user: 'alice',
            slots: ['0.0'],
            stoppedAt: stoppedAt.toISOString(),
            expiresAt: new Date(stoppedAt.getTime() + 15 * 60_000).toISOString(),
          }),
        );
        expect(events[5]).toMatchObject({ data: { slot: '0.1', reason: 'hold_expired' } });
      });
  });

  it('never records a slot twice: the first claim keeps it, the second is a problem to look at', () => {
    spec
      .given([recorded(), granted('0.2', { user: 'carol', containerId: containerC })])
      .when(
        reconcile([
          existing({ devices: ['0.3'] }),
          existing({ containerId: containerB, user: 'bob', devices: ['0.3', '0.2'] }),
        ]),
      )
      .thenEvents((events) => {
        expect(events.filter((e) => e.type === 'GpuAllocated')).toEqual([
          reconciled('0.3', containerA, 'alice'),
        ]);
        const problems = events.filter((e) => e.type === 'GpuReconciliationProblem').map((e) => e.data);
        expect(problems.map((p) => [p.problem, p.slot, p.containerId])).toEqual([
          ['slot_held_by_other_container', '0.3', containerB],
          ['slot_held_by_other_container', '0.2', containerB],
        ]);
        expect(problems[0]!.detail).toContain('ds01-infra granted it twice');
        expect(events.at(-1)).toMatchObject({ data: { slotsRecorded: 1, problems: 2 } });
      });
  });

  it('reports devices the inventory does not have, and owners it cannot tell, still blocking the slot', () => {
    spec
      .given([recorded()])
      .when(reconcile([existing({ user: null, devices: ['MIG-ffffffff-0000-0000-0000-000000000000', '2'] })]))
      .thenEvents((events) => {
        expect(events.map((e) => (e.type === 'GpuReconciliationProblem' ? e.data.problem : e.type))).toEqual([
          'unknown_owner',
          'unknown_device',
          'GpuAllocated',
          'GpuPoolReconciled',
        ]);
        expect(events[2]).toEqual(reconciled('2', containerA, null));
      });
  });

  it('ignores a container without GPUs, and is done once per pool', () => {
    const once = [
      recorded(),
      GpuPoolReconciled({ source: 'ds01-infra', containersSeen: 1, slotsRecorded: 0, problems: 0, at }),
    ];
    spec
      .given([recorded()])
      .when(reconcile([existing({})]))
      .then([once[1]!]);
    spec
      .given(once)
      .when(reconcile([existing({ devices: ['2'] })]))
      .thenNothingHappened();
  });
});
