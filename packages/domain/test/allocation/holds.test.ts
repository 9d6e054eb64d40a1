import { describe, it } from 'vitest';
import {
  type EndGpuHold,
  GpuHoldEnded,
  GpuHoldExpired,
  GpuHoldStarted,
  GpuReleased,
  type StartGpuHold,
} from '../../src/index.ts';
import { at, granted, recorded, spec } from './given.ts';
import { containerA, containerB, NOW } from './pools.ts';

const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000);
const iso = (n: number) => minutes(n).toISOString();

function stop(
  stoppedAtMinute: number,
  holdAfterStopHours: number | null = 0.25,
  nowMinute = stoppedAtMinute,
): StartGpuHold {
  return {
    type: 'StartGpuHold',
    containerId: containerA,
    stoppedAt: minutes(stoppedAtMinute),
    holdAfterStopHours,
    now: minutes(nowMinute),
  };
}
function start(startedAtMinute: number): EndGpuHold {
  return {
    type: 'EndGpuHold',
    containerId: containerA,
    startedAt: minutes(startedAtMinute),
    now: minutes(startedAtMinute),
  };
}
const expire = (nowMinute: number) => ({ type: 'ExpireGpuHolds' as const, now: minutes(nowMinute) });

const held = [
  recorded(),
  granted('0.2'),
  granted('1.2'),
  granted('2', { user: 'bob', containerId: containerB }),
];
const holdStarted = GpuHoldStarted({
  containerId: containerA,
  user: 'alice',
  slots: ['0.2', '1.2'],
  stoppedAt: iso(10),
  expiresAt: iso(25),
});

describe('GPU hold after a container stops', () => {
  it("starts a hold of the owner's gpu_hold_after_stop_h on the container's slots", () => {
    spec.given(held).when(stop(10)).then([holdStarted]);
  });

  it('keeps the GPUs until the hold runs out', () => {
    spec
      .given([...held, holdStarted])
      .when(expire(24))
      .thenNothingHappened();
  });

  it('releases exactly the held slots when the hold runs out', () => {
    spec
      .given([...held, holdStarted])
      .when(expire(25))
      .then([
        GpuHoldExpired({ containerId: containerA, expiresAt: iso(25), at: iso(25) }),
        GpuReleased({
          slot: '0.2',
          user: 'alice',
          containerId: containerA,
          reason: 'hold_expired',
          at: iso(25),
        }),
        GpuReleased({
          slot: '1.2',
          user: 'alice',
          containerId: containerA,
          reason: 'hold_expired',
          at: iso(25),
        }),
      ]);
  });

  it('a container started again within the hold keeps its GPUs', () => {
    const ended = GpuHoldEnded({ containerId: containerA, at: iso(20) });
    spec
      .given([...held, holdStarted])
      .when(start(20))
      .then([ended]);
    spec
      .given([...held, holdStarted, ended])
      .when(expire(60))
      .thenNothingHappened();
  });

  describe('a hold whose container started again before the timer heard of it (after a restart)', () => {
    const startedAt = (minute: number) => [{ containerId: containerA, startedAt: minutes(minute) }];

    it('ends instead of expiring when the start fell within the hold', () => {
      spec
        .given([...held, holdStarted])
        .when({ ...expire(60), lastStarts: startedAt(20) })
        .then([GpuHoldEnded({ containerId: containerA, at: iso(20) })]);
    });

    it('then keeps its GPUs: the late EndGpuHold and later timers change nothing', () => {
      const ended = GpuHoldEnded({ containerId: containerA, at: iso(20) });
      spec
        .given([...held, holdStarted, ended])
        .when(start(20))
        .thenNothingHappened();
      spec
        .given([...held, holdStarted, ended])
        .when({ ...expire(600), lastStarts: startedAt(20) })
        .thenNothingHappened();
    });

    it('still expires when the start came after the hold ran out, or is the one before the stop', () => {
      const expired = [
        GpuHoldExpired({ containerId: containerA, expiresAt: iso(25), at: iso(60) }),
        ...['0.2', '1.2'].map((slot) =>
          GpuReleased({ slot, user: 'alice', containerId: containerA, reason: 'hold_expired', at: iso(60) }),
        ),
      ];
      spec
        .given([...held, holdStarted])
        .when({ ...expire(60), lastStarts: startedAt(25) })
        .then(expired);
      spec
        .given([...held, holdStarted])
        .when({ ...expire(60), lastStarts: startedAt(5) })
        .then(expired);
    });

    it("another container's start does not save this hold", () => {
      spec
        .given([...held, holdStarted])
        .when({ ...expire(60), lastStarts: [{ containerId: containerB, startedAt: minutes(20) }] })
        .thenEvents((events) => {
          if (events[0]?.type !== 'GpuHoldExpired')
            throw new Error(`expected an expiry, got ${events[0]?.type}`);
        });
    });
  });

  it('ignores a replayed stop from before the restart', () => {
    const ended = GpuHoldEnded({ containerId: containerA, at: iso(20) });
    spec
      .given([...held, holdStarted, ended])
      .when(stop(10))
      .thenNothingHappened();
  });

  it('ignores a stop from before the container got its GPUs', () => {
    spec.given(held).when(stop(-5)).thenNothingHappened();
  });

  it('does nothing for a container without GPUs, or one already on hold', () => {
    spec.given([recorded()]).when(stop(10)).thenNothingHappened();
    spec
      .given([...held, holdStarted])
      .when(stop(12))
      .thenNothingHappened();
  });

  it('ignores a start of a container that is not on hold', () => {
    spec.given(held).when(start(20)).thenNothingHappened();
  });

  it('releases at once with a zero-hour hold', () => {
    spec
      .given(held)
      .when(stop(10, 0))
      .then([
        GpuHoldStarted({
          containerId: containerA,
          user: 'alice',
          slots: ['0.2', '1.2'],
          stoppedAt: iso(10),
          expiresAt: iso(10),
        }),
        GpuHoldExpired({ containerId: containerA, expiresAt: iso(10), at: iso(10) }),
        GpuReleased({
          slot: '0.2',
          user: 'alice',
          containerId: containerA,
          reason: 'hold_expired',
          at: iso(10),
        }),
        GpuReleased({
          slot: '1.2',
          user: 'alice',
          containerId: containerA,
          reason: 'hold_expired',
          at: iso(10),
        }),
      ]);
  });

  it('holds indefinitely when gpu_hold_after_stop_h is null', () => {
    const forever = GpuHoldStarted({
      containerId: containerA,
      user: 'alice',
      slots: ['0.2', '1.2'],
      stoppedAt: iso(10),
      expiresAt: null,
    });
    spec.given(held).when(stop(10, null)).then([forever]);
    spec
      .given([...held, forever])
      .when(expire(60 * 24 * 365))
      .thenNothingHappened();
  });

  it('a release of the held container ends its hold', () => {
    const released = ['0.2', '1.2'].map((slot) =>
      GpuReleased({ slot, user: 'alice', containerId: containerA, reason: 'container_removed', at }),
    );
    spec
      .given([...held, holdStarted, ...released])
      .when(expire(60))
      .thenNothingHappened();
  });
});
