import { describe, expect, it } from 'vitest';
import {
  type BareMetalRules,
  bareMetalPolicyFor,
  HostGpuProcessDetected,
  HostGpuProcessEnded,
  HostGpuProcessSignalled,
  HostGpuProcessStopDecided,
  HostGpuProcessWarned,
  hostGpuProcessDecider,
  type ObservedHostProcess,
  pendingSignals,
  UnattributedGpuProcess,
} from '../../src/index.ts';
import { DeciderSpecification } from '../../src/testing/deciderSpecification.ts';

const spec = DeciderSpecification.for(hostGpuProcessDecider);
const T0 = new Date('2026-12-03T12:00:00.000Z');
const later = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const GRACE_MS = 30_000;

const alice: ObservedHostProcess = {
  pid: 4242,
  processKey: '4242:991',
  uid: 1001,
  user: 'alice',
  command: 'python train.py',
  gpuUuid: 'GPU-1',
  slot: '1',
  usedMemoryMiB: 500,
  policy: 'stop',
  policySource: 'default',
};
const observe = (now: Date, ...processes: ObservedHostProcess[]) => ({
  type: 'ObserveHostGpuProcesses' as const,
  processes,
  graceMs: GRACE_MS,
  now,
});
const ref = { pid: 4242, processKey: '4242:991' };
const detected = HostGpuProcessDetected({
  ...ref,
  uid: 1001,
  user: 'alice',
  command: 'python train.py',
  gpuUuid: 'GPU-1',
  slot: '1',
  usedMemoryMiB: 500,
  policy: 'stop',
  policySource: 'default',
  at: T0.toISOString(),
});
const warned = HostGpuProcessWarned({
  ...ref,
  user: 'alice',
  policy: 'stop',
  stopAt: later(30).toISOString(),
  at: T0.toISOString(),
});
const termDecided = HostGpuProcessStopDecided({
  ...ref,
  user: 'alice',
  signal: 'SIGTERM',
  at: later(30).toISOString(),
});
const termSent = HostGpuProcessSignalled({
  ...ref,
  signal: 'SIGTERM',
  outcome: 'sent',
  error: null,
  at: later(31).toISOString(),
});

describe('host GPU process decider', () => {
  it('detects a process once and warns, saying when it will be stopped', () => {
    spec.given([]).when(observe(T0, alice)).then([detected, warned]);
    spec
      .given([detected, warned])
      .when(observe(later(15), alice))
      .thenNothingHappened();
  });

  it('only records a process the policy allows', () => {
    spec
      .given([])
      .when(observe(T0, { ...alice, policy: 'allow', policySource: 'grant' }))
      .then([HostGpuProcessDetected({ ...detected.data, policy: 'allow', policySource: 'grant' })]);
  });

  it('decides SIGTERM once the grace is over, then SIGKILL a grace after SIGTERM was sent', () => {
    spec
      .given([detected, warned])
      .when(observe(later(30), alice))
      .then([termDecided]);
    // Decided but not yet sent: nothing more is decided, whatever the time.
    spec
      .given([detected, warned, termDecided])
      .when(observe(later(120), alice))
      .thenNothingHappened();
    spec
      .given([detected, warned, termDecided, termSent])
      .when(observe(later(45), alice))
      .thenNothingHappened();
    spec
      .given([detected, warned, termDecided, termSent])
      .when(observe(later(61), alice))
      .then([
        HostGpuProcessStopDecided({ ...ref, user: 'alice', signal: 'SIGKILL', at: later(61).toISOString() }),
      ]);
  });

  it('spares a process whose user got a grant before the grace ended', () => {
    spec
      .given([detected, warned])
      .when(observe(later(40), { ...alice, policy: 'allow', policySource: 'grant' }))
      .thenNothingHappened();
  });

  it('records the outcome of a decided signal once, and lists only signals not yet executed', () => {
    spec
      .given([detected, warned, termDecided])
      .when({
        type: 'RecordHostGpuProcessSignal',
        processKey: ref.processKey,
        signal: 'SIGTERM',
        outcome: 'sent',
        error: null,
        now: later(31),
      })
      .then([termSent]);
    spec
      .given([detected, warned, termDecided, termSent])
      .when({
        type: 'RecordHostGpuProcessSignal',
        processKey: ref.processKey,
        signal: 'SIGTERM',
        outcome: 'sent',
        error: null,
        now: later(32),
      })
      .thenNothingHappened();
    const evolve = (events: Parameters<typeof hostGpuProcessDecider.evolve>[1][]) =>
      events.reduce(hostGpuProcessDecider.evolve, hostGpuProcessDecider.initialState());
    expect(pendingSignals(evolve([detected, warned, termDecided]))).toEqual([
      { processKey: ref.processKey, pid: 4242, signal: 'SIGTERM' },
    ]);
    expect(pendingSignals(evolve([detected, warned, termDecided, termSent]))).toEqual([]);
  });

  it('ends a process once it is no longer seen, and tells unattributed processes apart', () => {
    spec
      .given([detected, warned])
      .when(observe(later(10)))
      .then([HostGpuProcessEnded({ ...ref, user: 'alice', at: later(10).toISOString() })]);
    spec
      .given([])
      .when(observe(T0, { ...alice, user: null, uid: null, unattributedReason: '/proc/4242 cannot be read' }))
      .then([
        UnattributedGpuProcess({
          ...ref,
          uid: null,
          command: 'python train.py',
          gpuUuid: 'GPU-1',
          slot: '1',
          usedMemoryMiB: 500,
          reason: '/proc/4242 cannot be read',
          at: T0.toISOString(),
        }),
      ]);
  });
});

describe('bare-metal policy', () => {
  const rules: BareMetalRules = {
    defaultPolicy: 'stop',
    users: { bob: 'warn' },
    groups: { students: 'stop', faculty: 'allow' },
    exemptUsers: ['root-ish'],
    grants: [
      { user: 'carol', type: 'temporary', expiresAt: '2026-12-03T13:00:00+00:00' },
      { user: 'dave', type: 'permanent', expiresAt: null },
    ],
  };
  it.each([
    ['root-ish', [], 'allow', 'exempt-user', T0],
    ['carol', [], 'allow', 'grant', T0],
    ['carol', [], 'stop', 'default', new Date('2026-12-03T13:00:01Z')],
    ['dave', [], 'allow', 'grant', T0],
    ['bob', ['faculty'], 'warn', 'user', T0],
    ['erin', ['students', 'faculty'], 'allow', 'group', T0],
    ['frank', ['students'], 'stop', 'group', T0],
    ['gina', ['staff'], 'stop', 'default', T0],
  ] as const)('%s in %j: %s (%s)', (user, groups, policy, source, now) => {
    expect(bareMetalPolicyFor(user, groups, rules, now)).toEqual({ policy, source });
  });
});
