import {
  ContainerCreateAuthorized,
  ContainerDescribed,
  ContainerResourceWindowRecorded,
  ContainerStarted,
  ContainerStopped,
  GpuUsageWindowRecorded,
  type LifecycleEvent,
  type LifecyclePolicy,
  type LifecycleTick,
  lifecycleDecider,
} from '../../src/index.ts';
import { DeciderSpecification } from '../../src/testing/deciderSpecification.ts';

export const spec = DeciderSpecification.for(lifecycleDecider);

export const ID = 'a'.repeat(64);
/** Minute 0 of every spec: the container starts then. */
export const T0 = Date.parse('2026-03-02T09:00:00.000Z');
export const at = (minute: number) => new Date(T0 + minute * 60_000);
export const iso = (minute: number) => at(minute).toISOString();

const ref = { containerId: ID, name: 'train', observation: 'observed' as const, dockerEvent: null };

export function described(
  overrides: { type?: 'docker' | 'atomic' | 'devcontainer'; infrastructure?: boolean; gpu?: boolean } = {},
) {
  return ContainerDescribed({
    ...ref,
    describedFrom: 'inspect',
    image: 'busybox',
    imageId: 'sha256:1',
    createdAt: iso(-1),
    owner: { user: 'alice', rule: 'ds01_label', evidence: 'ds01.user=alice' },
    interface: overrides.type === 'atomic' ? 'atomic' : 'docker',
    type: overrides.type ?? 'docker',
    managed: overrides.type === 'atomic',
    infrastructure: overrides.infrastructure ?? false,
    gpu: overrides.gpu ? { access: 'count', count: 1, via: 'device_request' } : { access: 'none' },
    cgroupParent: null,
    limits: null,
    labels: { 'ds01.user': 'alice' },
  });
}

/** The gateway's record that `user` created the container through their socket: its verified owner. */
export const createAuthorized = (user = 'alice') =>
  ContainerCreateAuthorized({
    containerId: ID,
    user,
    socket: { kind: 'user', user, path: `/run/ds01/users/${user}/docker.sock` },
    interface: 'docker',
    name: 'train',
    rewritten: [],
    devices: [],
  });

export const started = (minute = 0) => ContainerStarted({ ...ref, startedAt: iso(minute) });
export const stopped = (minute: number) =>
  ContainerStopped({ ...ref, exitCode: 137, oomKilled: false, finishedAt: iso(minute) });

/** A 5-minute container window from `minute`: CPU in percent of a core, network bytes in the window. */
export function cpuWindow(
  minute: number,
  cpuPercent = 0.5,
  networkBytes: number | null = 1000,
): LifecycleEvent {
  return ContainerResourceWindowRecorded({
    host: 'gpu1',
    windowStart: iso(minute),
    windowEnd: iso(minute + 5),
    containerId: ID,
    user: 'alice',
    samples: 20,
    cpuSeconds: (cpuPercent / 100) * 300,
    cpuMeanCores: cpuPercent / 100,
    cpuMaxCores: cpuPercent / 100,
    memoryMaxBytes: 1e8,
    memoryLimitBytes: null,
    ioReadBytes: 0,
    ioWriteBytes: 0,
    pidsMax: 3,
    networkRxBytes: networkBytes === null ? null : networkBytes / 2,
    networkTxBytes: networkBytes === null ? null : networkBytes / 2,
  });
}

/** Windows every 5 minutes over [from, to). */
export const cpuWindows = (from: number, to: number, cpuPercent = 0.5) =>
  Array.from({ length: Math.ceil((to - from) / 5) }, (_, i) => cpuWindow(from + i * 5, cpuPercent));

/** A MIG slice's window held by the container: GR_ENGINE_ACTIVE as a ratio, null = no DCGM. */
export function migWindow(minute: number, grEngineActive: number | null): LifecycleEvent {
  return GpuUsageWindowRecorded({
    host: 'gpu1',
    windowStart: iso(minute),
    windowEnd: iso(minute + 5),
    device: { gpuIndex: 1, slot: '1.2', uuid: 'MIG-1', migProfile: '3g.40gb' },
    holder: { containerId: ID, user: 'alice' },
    samples: 20,
    gpuUtilization: null,
    grEngineActive: grEngineActive === null ? null : { mean: grEngineActive, max: grEngineActive },
    smActive: null,
    dramActive: null,
    memoryUsedMaxBytes: null,
    powerMeanWatts: null,
    energyJoules: null,
    processes: [],
  });
}

export const policy: LifecyclePolicy = {
  idleTimeoutMinutes: 30,
  maxRuntimeHours: 48,
  gpuIdleThreshold: 5,
  cpuIdleThreshold: 2,
  networkIdleThreshold: 1048576,
  startGraceMinutes: 30,
  keepAliveMaxHours: 24,
  highDemandIdleReduction: 0.5,
  sigtermGraceSeconds: 60,
  containerHoldAfterStopHours: 0.5,
  createdContainerTimeoutMinutes: 30,
  warningLeadMinutes: [15, 5],
  departedNoticeHours: 24,
  exemptions: { idle: null, maxRuntime: null },
};

export function tick(minute: number, overrides: Partial<Omit<LifecycleTick, 'type'>> = {}): LifecycleTick {
  return {
    type: 'LifecycleTick',
    now: at(minute),
    policy,
    highDemand: false,
    keepAlive: null,
    ownerDepartedAt: null,
    ...overrides,
  };
}

/** The events of a decision, by type only (for specs about what happens, not every field). */
export const types = (events: readonly { type: string }[]) => events.map((e) => e.type);
