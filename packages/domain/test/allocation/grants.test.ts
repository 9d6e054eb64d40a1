import { describe, expect, it } from 'vitest';
import {
  containerSlots,
  evolvePool,
  GpuAllocated,
  GpuGrantBound,
  GpuGrantExpired,
  type GpuPoolEvent,
  GpuPoolSnapshotTaken,
  GpuReleased,
  GrantNotPendingError,
  initialPoolState,
  type PoolState,
  snapshotOfPoolState,
} from '../../src/index.ts';
import { at, granted, recorded, spec } from './given.ts';
import { allocate, containerA, containerB, mixedPool, NOW } from './pools.ts';

const deadline = new Date(NOW.getTime() + 120_000);
const later = (ms: number) => new Date(NOW.getTime() + ms);

/** A grant for a create dockerd has not answered yet. */
function pending(slot: string, requestId = 'req-p', user = 'alice'): GpuPoolEvent {
  const event = granted(slot, { containerId: null, requestId, user });
  return GpuAllocated({
    ...(event.data as Extract<GpuPoolEvent, { type: 'GpuAllocated' }>['data']),
    pendingUntil: deadline.toISOString(),
  });
}

const fold = (events: GpuPoolEvent[]): PoolState => events.reduce(evolvePool, initialPoolState());

describe('pending grants: allocated before dockerd names the container', () => {
  it('AllocateGpu for no container with a deadline records a pending grant', () => {
    spec
      .given([recorded()])
      .when(allocate({ containerId: null, requestId: 'req-p', pendingUntil: deadline }))
      .then([pending('0.2')]);
    const state = fold([recorded(), pending('0.2')]);
    expect(state.pending.get('req-p')).toEqual({
      requestId: 'req-p',
      user: 'alice',
      slots: ['0.2'],
      pendingUntil: deadline.toISOString(),
    });
  });

  it('a pending slot is taken: the next request gets another one', () => {
    spec
      .given([recorded(), pending('0.2')])
      .when(allocate({ user: 'bob', containerId: containerB, requestId: 'req-2' }))
      .then([granted('1.2', { user: 'bob', containerId: containerB, requestId: 'req-2' })]);
  });

  it('BindGpuGrant binds the slots to the container dockerd created', () => {
    spec
      .given([recorded(), pending('0.2')])
      .when({ type: 'BindGpuGrant', requestId: 'req-p', containerId: containerA, now: later(1000) })
      .then([
        GpuGrantBound({
          requestId: 'req-p',
          containerId: containerA,
          slots: ['0.2'],
          at: later(1000).toISOString(),
        }),
      ]);
    const state = fold([
      recorded(),
      pending('0.2'),
      GpuGrantBound({ requestId: 'req-p', containerId: containerA, slots: ['0.2'], at }),
    ]);
    expect(state.pending.size).toBe(0);
    expect(containerSlots(state, containerA).map((h) => [h.slot, h.containerId, h.pendingUntil])).toEqual([
      ['0.2', containerA, undefined],
    ]);
  });

  it('binding twice to the same container changes nothing; to another, or after expiry, is refused', () => {
    const bound = [
      recorded(),
      pending('0.2'),
      GpuGrantBound({ requestId: 'req-p', containerId: containerA, slots: ['0.2'], at }),
    ];
    spec
      .given(bound)
      .when({ type: 'BindGpuGrant', requestId: 'req-p', containerId: containerA, now: NOW })
      .thenNothingHappened();
    spec
      .given(bound)
      .when({ type: 'BindGpuGrant', requestId: 'req-p', containerId: containerB, now: NOW })
      .thenThrows(GrantNotPendingError, (e) => e.requestId === 'req-p');
    spec
      .given([recorded()])
      .when({ type: 'BindGpuGrant', requestId: 'req-gone', containerId: containerA, now: NOW })
      .thenThrows(GrantNotPendingError);
  });

  it("a bind after the deadline still binds while nothing expired the grant: its slots were nobody else's", () => {
    spec
      .given([recorded(), pending('0.2')])
      .when({ type: 'BindGpuGrant', requestId: 'req-p', containerId: containerA, now: later(600_000) })
      .thenEvents((events) => expect(events.map((e) => e.type)).toEqual(['GpuGrantBound']));
  });

  it('ReleaseGpuGrant (dockerd refused the create) releases its slots; again, nothing', () => {
    spec
      .given([recorded(), pending('0.2')])
      .when({ type: 'ReleaseGpuGrant', requestId: 'req-p', now: later(500) })
      .then([
        GpuReleased({
          slot: '0.2',
          user: 'alice',
          containerId: null,
          reason: 'create_failed',
          at: later(500).toISOString(),
        }),
      ]);
    const released = GpuReleased({
      slot: '0.2',
      user: 'alice',
      containerId: null,
      reason: 'create_failed',
      at,
    });
    expect(fold([recorded(), pending('0.2'), released]).pending.size).toBe(0);
    spec
      .given([recorded(), pending('0.2'), released])
      .when({ type: 'ReleaseGpuGrant', requestId: 'req-p', now: NOW })
      .thenNothingHappened();
  });

  const expiry = (when: Date) => [
    GpuGrantExpired({
      requestId: 'req-p',
      user: 'alice',
      slots: ['0.2'],
      pendingUntil: deadline.toISOString(),
      at: when.toISOString(),
    }),
    GpuReleased({
      slot: '0.2',
      user: 'alice',
      containerId: null,
      reason: 'grant_expired',
      at: when.toISOString(),
    }),
  ];

  it('the hold timer (ExpireGpuHolds) releases a grant nobody bound by its deadline, not before', () => {
    spec
      .given([recorded(), pending('0.2')])
      .when({ type: 'ExpireGpuHolds', now: later(119_999) })
      .thenNothingHappened();
    spec
      .given([recorded(), pending('0.2')])
      .when({ type: 'ExpireGpuHolds', now: deadline })
      .then(expiry(deadline));
    expect(fold([recorded(), pending('0.2'), ...expiry(deadline)]).pending.size).toBe(0);
  });

  it('the next allocation expires an overdue grant first, so a leaked grant never blocks a slot', () => {
    const onePool = mixedPool.filter((s) => s.slot === '0.2');
    spec
      .given([recorded(onePool), pending('0.2')])
      .when(
        allocate({
          user: 'bob',
          containerId: containerB,
          requestId: 'req-2',
          inventory: onePool,
          now: later(200_000),
        }),
      )
      .thenEvents((events) => {
        expect(events.map((e) => e.type)).toEqual(['GpuGrantExpired', 'GpuReleased', 'GpuAllocated']);
        expect(events[2]!.data).toMatchObject({ slot: '0.2', user: 'bob', containerId: containerB });
      });
  });

  it('a grant of several slots is pending as one and bound as one', () => {
    const events = [recorded(), pending('0.2'), pending('1.2')];
    expect(fold(events).pending.get('req-p')?.slots).toEqual(['0.2', '1.2']);
    spec
      .given(events)
      .when({ type: 'BindGpuGrant', requestId: 'req-p', containerId: containerA, now: NOW })
      .then([GpuGrantBound({ requestId: 'req-p', containerId: containerA, slots: ['0.2', '1.2'], at })]);
  });
});

describe('pool snapshots', () => {
  it('folding a snapshot gives the state it was taken of, pending grants and holds included', () => {
    const events: GpuPoolEvent[] = [
      recorded(),
      granted('0.0'),
      granted('1.0', { user: 'bob', containerId: containerB, requestId: 'req-2' }),
      pending('0.2'),
      {
        type: 'GpuHoldStarted',
        data: {
          containerId: containerB,
          user: 'bob',
          slots: ['1.0'],
          stoppedAt: at,
          expiresAt: deadline.toISOString(),
        },
      },
    ];
    const state = fold(events);
    const snapshot = GpuPoolSnapshotTaken(snapshotOfPoolState(state, 4));
    expect(GpuPoolSnapshotTaken.schema.parse(snapshot.data)).toEqual(snapshot.data);
    const fromSnapshot = evolvePool(initialPoolState(), snapshot);
    expect(fromSnapshot).toEqual(state);
    // Folded over the state it describes, it changes nothing.
    expect(evolvePool(state, snapshot)).toEqual(state);
  });
});
