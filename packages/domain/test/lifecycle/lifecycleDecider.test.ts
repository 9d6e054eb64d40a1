import { describe, expect, it } from 'vitest';
import {
  ContainerActiveAgain,
  ContainerCreated,
  ContainerIdle,
  ContainerRetired,
  containersOfLifecycleEvent,
  dueRetirement,
  evolveLifecycle,
  initialLifecycleState,
  LifecycleError,
  type LifecycleEvent,
  RetirementCancelled,
  RetirementFailed,
  RetirementPostponed,
  RetirementScheduled,
  RetirementStarted,
  RetirementWarned,
} from '../../src/index.ts';
import {
  at,
  cpuWindow,
  cpuWindows,
  createAuthorized,
  described,
  ID,
  iso,
  migWindow,
  policy,
  spec,
  started,
  stopped,
  tick,
  types,
} from './given.ts';

const idleOnly = { ...policy, maxRuntimeHours: null };
const idleTick = (minute: number, overrides: Parameters<typeof tick>[1] = {}) =>
  tick(minute, { policy: idleOnly, ...overrides });

const IDLE_DETAIL =
  'idle since 2026-03-02 09:00 (GPU under 5%, CPU under 2%, network under 1048576 bytes a window); idle timeout 30 minutes. Any activity, or touching /workspace/.keep-alive, keeps it';
const idleRetirement = RetirementScheduled({
  retirementId: `${ID.slice(0, 12)}-idle-${iso(10)}`,
  containerId: ID,
  user: 'alice',
  containerName: 'train',
  reason: 'idle',
  action: 'stop',
  // Idle from the start, but idleness counts only after the 30-minute start grace.
  dueAt: iso(60),
  at: iso(60),
  graceSeconds: 60,
  warn: true,
  detail: IDLE_DETAIL,
});
const idleSinceStart = [described(), started(0), ...cpuWindows(0, 10)];
const scheduled = [...idleSinceStart, ContainerIdle({ containerId: ID, idleSince: iso(0) }), idleRetirement];

const warned = (leadMinutes: number[], minutesLeft: number, when = iso(60)) =>
  RetirementWarned({
    retirementId: idleRetirement.data.retirementId,
    containerId: ID,
    user: 'alice',
    containerName: 'train',
    reason: 'idle',
    at: when,
    leadMinutes,
    minutesLeft,
    detail: IDLE_DETAIL,
  });

describe('idle detection', () => {
  it('an idle container is recorded idle and its retirement scheduled at once, timeout after the start grace', () => {
    spec
      .given(idleSinceStart)
      .when(idleTick(10))
      .then([ContainerIdle({ containerId: ID, idleSince: iso(0) }), idleRetirement]);
  });

  it('warns at each lead before the retirement, then nothing more', () => {
    spec
      .given([...scheduled, ...cpuWindows(10, 45)])
      .when(idleTick(45))
      .then([warned([15], 15)]);
    spec
      .given([...scheduled, ...cpuWindows(10, 55), warned([15], 15)])
      .when(idleTick(55))
      .then([warned([5], 5)]);
    spec
      .given([...scheduled, ...cpuWindows(10, 58), warned([15], 15), warned([5], 5)])
      .when(idleTick(58))
      .thenNothingHappened();
  });

  it('a busy container is not idle (CPU over the threshold)', () => {
    spec
      .given([described(), started(0), ...cpuWindows(0, 60, 50)])
      .when(idleTick(60))
      .thenNothingHappened();
  });

  it('network traffic over the threshold in a window is activity', () => {
    spec
      .given([described(), started(0), cpuWindow(0, 0.5, 5_000_000), cpuWindow(5, 0.5, 5_000_000)])
      .when(idleTick(10))
      .thenNothingHappened();
  });

  it('activity after idleness: active again, and the idle retirement is cancelled', () => {
    spec
      .given([...scheduled, ...cpuWindows(10, 40), cpuWindow(40, 80)])
      .when(idleTick(46))
      .then([
        ContainerActiveAgain({ containerId: ID, idleSince: iso(0), activeAt: iso(45) }),
        RetirementCancelled({
          retirementId: idleRetirement.data.retirementId,
          containerId: ID,
          why: 'active_again',
          detail: 'the container is active again',
        }),
      ]);
  });

  it('no windows, no idleness: unknown is never idle', () => {
    spec
      .given([described(), started(0)])
      .when(idleTick(120))
      .thenNothingHappened();
  });

  it('a MIG slice without DCGM (GR_ENGINE_ACTIVE unknown) is never idle, however quiet its CPU', () => {
    const windows = [0, 5, 10].flatMap((m) => [cpuWindow(m), migWindow(m, null)]);
    spec
      .given([described(), started(0), ...windows])
      .when(idleTick(15))
      .thenNothingHappened();
  });

  it('a container that can reach a GPU, with no GPU window at all, is never idle on its CPU alone', () => {
    spec
      .given([described({ gpu: true }), started(0), ...cpuWindows(0, 60)])
      .when(idleTick(60))
      .thenNothingHappened();
  });

  it('a MIG slice idle by GR_ENGINE_ACTIVE, with a quiet CPU, is idle', () => {
    const windows = [0, 5].flatMap((m) => [cpuWindow(m), migWindow(m, 0.01)]);
    spec
      .given([described(), started(0), ...windows])
      .when(idleTick(10))
      .thenEvents((events) => expect(types(events)).toEqual(['ContainerIdle', 'RetirementScheduled']));
  });

  it('a busy MIG slice (GR_ENGINE_ACTIVE 40%) keeps a quiet-CPU container alive', () => {
    const windows = [0, 5].flatMap((m) => [cpuWindow(m), migWindow(m, 0.4)]);
    spec
      .given([described(), started(0), ...windows])
      .when(idleTick(10))
      .thenNothingHappened();
  });

  it('a GPU busy with a process of a container that holds no allocation (docker run --gpus all) is its activity', () => {
    const unallocated = (m: number) => {
      const w = migWindow(m, 0.6) as { type: 'GpuUsageWindowRecorded'; data: Record<string, unknown> };
      return {
        ...w,
        data: {
          ...w.data,
          holder: { containerId: null, user: null },
          processes: [{ pid: 42, containerId: ID, user: 'alice', memoryMaxBytes: 1e9 }],
        },
      } as LifecycleEvent;
    };
    const windows = [0, 5].flatMap((m) => [cpuWindow(m), unallocated(m)]);
    expect(containersOfLifecycleEvent(unallocated(0))).toEqual([ID]);
    spec
      .given([described(), started(0), ...windows])
      .when(idleTick(10))
      .thenNothingHappened();
  });

  it('a gap in the windows restarts the idle stretch after it', () => {
    spec
      .given([described(), started(0), ...cpuWindows(0, 10), ...cpuWindows(40, 50)])
      .when(idleTick(50))
      .thenEvents((events) => {
        expect(events[0]).toEqual(ContainerIdle({ containerId: ID, idleSince: iso(40) }));
        expect((events[1]!.data as { dueAt: string }).dueAt).toBe(iso(70));
      });
  });

  it('high demand shortens the idle timeout by high_demand_idle_reduction', () => {
    spec
      .given(idleSinceStart)
      .when(idleTick(10, { highDemand: true }))
      .thenEvents((events) => expect((events[1]!.data as { dueAt: string }).dueAt).toBe(iso(45)));
  });
});

describe('keep-alive and exemptions', () => {
  it('a fresh /workspace/.keep-alive holds off idle retirement (the container is still recorded idle)', () => {
    spec
      .given(idleSinceStart)
      .when(idleTick(10, { keepAlive: { modifiedAt: iso(-60) } }))
      .then([ContainerIdle({ containerId: ID, idleSince: iso(0) })]);
  });

  it('a keep-alive touched after the retirement was scheduled cancels it', () => {
    spec
      .given(scheduled)
      .when(idleTick(20, { keepAlive: { modifiedAt: iso(15) } }))
      .then([
        RetirementCancelled({
          retirementId: idleRetirement.data.retirementId,
          containerId: ID,
          why: 'keep_alive',
          detail: '/workspace/.keep-alive holds off idle retirement',
        }),
      ]);
  });

  it('a keep-alive older than keepalive_max_duration_h is not honoured', () => {
    spec
      .given(idleSinceStart)
      .when(idleTick(10, { keepAlive: { modifiedAt: iso(-25 * 60) } }))
      .thenEvents((events) => expect(types(events)).toEqual(['ContainerIdle', 'RetirementScheduled']));
  });

  it('an owner exempt from idle_timeout_h (lifecycle-exemptions.yaml) is not retired for idleness', () => {
    const exempt = { ...idleOnly, exemptions: { idle: 'Permanent exemption: grant', maxRuntime: null } };
    spec
      .given(idleSinceStart)
      .when(tick(10, { policy: exempt }))
      .then([ContainerIdle({ containerId: ID, idleSince: iso(0) })]);
  });

  it('idle_timeout_h null (dev containers) never retires for idleness', () => {
    spec
      .given(idleSinceStart)
      .when(tick(10, { policy: { ...idleOnly, idleTimeoutMinutes: null } }))
      .then([ContainerIdle({ containerId: ID, idleSince: iso(0) })]);
  });

  it('infrastructure (ds01.protected, the monitoring stack) is never retired', () => {
    spec
      .given([described({ infrastructure: true }), started(0), ...cpuWindows(0, 10)])
      .when(tick(3000))
      .then([ContainerIdle({ containerId: ID, idleSince: iso(0) })]);
  });

  it('an admin exemption cancels the pending retirement it covers', () => {
    spec
      .given(scheduled)
      .when({ type: 'ExemptContainer', now: at(20), from: ['idle'], until: null, by: 'root', reason: 'demo' })
      .thenEvents((events) =>
        expect(types(events)).toEqual(['LifecycleExemptionGranted', 'RetirementCancelled']),
      );
  });

  it('an admin extension cancels; the next tick schedules no earlier than the extension', () => {
    const extended: LifecycleEvent[] = [];
    spec
      .given(scheduled)
      .when({ type: 'ExtendLifecycle', now: at(20), until: at(180), by: 'root', reason: 'deadline' })
      .thenEvents((events) => {
        expect(types(events)).toEqual(['LifecycleExtended', 'RetirementCancelled']);
        extended.push(...events);
      });
    spec
      .given([...scheduled, ...extended, ...cpuWindows(10, 25)])
      .when(idleTick(25))
      .thenEvents((events) => expect((events[0]!.data as { dueAt: string }).dueAt).toBe(iso(180)));
  });

  it('an admin cannot extend a container DS01 has no record of', () => {
    spec
      .given([])
      .when({ type: 'ExtendLifecycle', now: at(0), until: at(60), by: 'root', reason: 'x' })
      .thenThrows(LifecycleError);
  });
});

describe('other retirements', () => {
  it('max runtime: from the start, warned like any other', () => {
    spec
      .given([described(), started(0)])
      .when(tick(1))
      .thenEvents((events) => {
        expect(events).toHaveLength(1);
        expect(events[0]!.data).toMatchObject({ reason: 'max_runtime', dueAt: iso(48 * 60), warn: true });
      });
  });

  it.each([
    ['authorized, then described', () => [createAuthorized(), described(), started(0)]],
    [
      'described, then authorized (the gateway appends after Docker answered)',
      () => [described(), createAuthorized(), started(0)],
    ],
  ])(
    "a departed verified owner's running container: stopped and removed after the notice (%s)",
    (_order, given) => {
      spec
        .given(given())
        .when(tick(10, { policy: idleOnly, ownerDepartedAt: iso(5) }))
        .thenEvents((events) =>
          expect(events[0]!.data).toMatchObject({
            reason: 'departed_user',
            user: 'alice',
            action: 'stop_and_remove',
            dueAt: iso(5 + 24 * 60),
          }),
        );
    },
  );

  it('a container that only claims a departed owner (a label) is not stopped as theirs', () => {
    // Anyone may write `ds01.user=alice`: stopping it would stop another user's work on a claim.
    spec
      .given([described(), started(0)])
      .when(tick(10, { policy: idleOnly, ownerDepartedAt: iso(5) }))
      .thenNothingHappened();
  });

  it("the gateway's owner wins over the description's claim, whichever came first", () => {
    const claimedByBob = {
      ...described(),
      data: {
        ...described().data,
        owner: { user: 'bob', rule: 'ds01_label' as const, evidence: 'ds01.user=bob' },
      },
    };
    for (const order of [
      [createAuthorized(), claimedByBob],
      [claimedByBob, createAuthorized()],
    ]) {
      const state = order.reduce((s, e) => evolveLifecycle(s, e), initialLifecycleState(ID));
      expect({ user: state.user, userVerified: state.userVerified }).toEqual({
        user: 'alice',
        userVerified: true,
      });
    }
  });

  it('created and never started: removed after created_container_timeout_m, unwarned', () => {
    spec
      .given([
        described(),
        ContainerCreated({
          containerId: ID,
          name: 'train',
          observation: 'observed',
          dockerEvent: null,
          image: 'busybox',
          labels: {},
        }),
      ])
      .when(tick(5))
      .thenEvents((events) =>
        expect(events[0]!.data).toMatchObject({
          reason: 'never_started',
          action: 'remove',
          dueAt: iso(29),
          warn: false,
        }),
      );
  });

  it('a stopped container is removed after container_hold_after_stop_h', () => {
    spec
      .given([described(), started(0), stopped(10)])
      .when(tick(11))
      .thenEvents((events) =>
        expect(events[0]!.data).toMatchObject({
          reason: 'stopped_hold_expired',
          action: 'remove',
          dueAt: iso(40),
        }),
      );
  });

  it('a retirement due while DS01 was down is warned first, and moved to the shortest lead from now', () => {
    spec
      .given([...scheduled, ...cpuWindows(10, 70)])
      .when(idleTick(70))
      .then([
        RetirementPostponed({
          retirementId: idleRetirement.data.retirementId,
          containerId: ID,
          at: iso(75),
          why: 'warning_lead',
        }),
        warned([15, 5], 5, iso(75)),
      ]);
  });

  it('a container stopped before its retirement: the retirement is cancelled', () => {
    spec
      .given([...scheduled, stopped(20)])
      .when(idleTick(21))
      .thenEvents((events) => {
        expect(events[0]).toEqual(
          RetirementCancelled({
            retirementId: idleRetirement.data.retirementId,
            containerId: ID,
            why: 'container_stopped',
            detail: 'the container stopped before it was retired',
          }),
        );
        expect(events[1]!.data).toMatchObject({ reason: 'stopped_hold_expired' });
      });
  });
});

describe('execution (the enforcer)', () => {
  const ready = [...scheduled, ...cpuWindows(10, 60), warned([15], 15), warned([5], 5)];
  const id = idleRetirement.data.retirementId;
  const startedRetirement = RetirementStarted({
    retirementId: id,
    containerId: ID,
    attempt: 1,
    action: 'stop',
    graceSeconds: 60,
    at: iso(60),
  });

  it('starts a due retirement once: a second start of the same decision does nothing', () => {
    spec
      .given(ready)
      .when({ type: 'StartRetirement', now: at(60), retirementId: id })
      .then([startedRetirement]);
    spec
      .given([...ready, startedRetirement])
      .when({ type: 'StartRetirement', now: at(61), retirementId: id })
      .thenNothingHappened();
  });

  it('records the outcome of the attempt in hand, once', () => {
    const retired = ContainerRetired({
      retirementId: id,
      containerId: ID,
      user: 'alice',
      reason: 'idle',
      action: 'stop',
      outcome: 'stopped',
      resumed: false,
      at: iso(61),
    });
    spec
      .given([...ready, startedRetirement])
      .when({ type: 'CompleteRetirement', now: at(61), retirementId: id, outcome: 'stopped', resumed: false })
      .then([retired]);
    spec
      .given([...ready, startedRetirement, retired])
      .when({ type: 'CompleteRetirement', now: at(62), retirementId: id, outcome: 'stopped', resumed: false })
      .thenNothingHappened();
  });

  it('a failed attempt is tried again after its retry time, as attempt 2', () => {
    const failed = RetirementFailed({
      retirementId: id,
      containerId: ID,
      attempt: 1,
      error: 'ECONNREFUSED',
      retryAt: iso(62),
    });
    spec
      .given([...ready, startedRetirement])
      .when({ type: 'FailRetirement', now: at(61), retirementId: id, error: 'ECONNREFUSED', retryAt: at(62) })
      .then([failed]);
    const state = [...ready, startedRetirement, failed].reduce(
      (s, e) => evolveLifecycle(s, e),
      initialLifecycleState(),
    );
    expect(dueRetirement(state, at(61), 600_000)).toBeNull();
    expect(dueRetirement(state, at(62), 600_000)?.attempts).toBe(1);
    spec
      .given([...ready, startedRetirement, failed])
      .when({ type: 'StartRetirement', now: at(62), retirementId: id })
      .thenEvents((events) => expect(events[0]!.data).toMatchObject({ attempt: 2 }));
  });

  it('a retirement is due only when warned, and an idle one only while its windows keep coming', () => {
    const fold = (events: LifecycleEvent[]) =>
      events.reduce((s, e) => evolveLifecycle(s, e), initialLifecycleState());
    expect(dueRetirement(fold(scheduled), at(60), 600_000)).toBeNull();
    expect(dueRetirement(fold(ready), at(59), 600_000)).toBeNull();
    expect(dueRetirement(fold(ready), at(60), 600_000)?.retirementId).toBe(id);
    // The sampler stopped at minute 60: at 80 the windows are 20 minutes old.
    expect(dueRetirement(fold(ready), at(80), 600_000)).toBeNull();
  });
});
