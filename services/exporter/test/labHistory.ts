import {
  ContainerCreated,
  ContainerDescribed,
  ContainerOutOfMemory,
  ContainerResourceWindowRecorded,
  ContainerStarted,
  containerStream,
  containerUsageStream,
  type GpuAccess,
  GpuAllocated,
  GpuAllocationDenied,
  GpuInventoryObserved,
  GpuUsageWindowRecorded,
  gpuInventoryStream,
  gpuPoolStream,
  gpuUsageStream,
  UnattributedGpuProcess,
  UnmanagedContainerDetected,
  UserRegistered,
} from '@ds01/domain';

export const HOST = 'gpu01';
export const ALICE_BOX = 'a'.repeat(64);
export const STRAY = 'f'.repeat(64);

/**
 * A small lab, as the services would have recorded it: two users, four GPUs (GPU 2 in MIG with
 * DCGM's GPU instance ids, as nvidia-smi -q -x gives them), alice's managed container on GPU 0 and
 * MIG 2.0 with usage windows, a raw `docker run --gpus all` of bob's, a host GPU process nobody owns.
 */
export function labHistory(
  now: Date,
): { stream: string; event: { type: string; data: unknown }; at: string }[] {
  const at = (minutesAgo: number) => new Date(now.getTime() - minutesAgo * 60_000).toISOString();
  const windowStart = new Date(Math.floor((now.getTime() - 10 * 60_000) / 300_000) * 300_000).toISOString();
  const windowEnd = new Date(Date.parse(windowStart) + 300_000).toISOString();
  const ref = (containerId: string, name: string) => ({
    containerId,
    name,
    observation: 'observed' as const,
    dockerEvent: null,
  });
  const description = (owner: string, managed: boolean, gpu: GpuAccess) => ({
    image: 'busybox',
    imageId: 'sha256:1',
    createdAt: at(60),
    owner: {
      user: owner,
      rule: managed ? ('ds01_label' as const) : ('cgroup_slice' as const),
      evidence: 'test',
    },
    interface: managed ? ('atomic' as const) : ('docker' as const),
    type: managed ? ('atomic' as const) : ('docker' as const),
    managed,
    infrastructure: false,
    gpu,
    cgroupParent: null,
    limits: null,
    labels: {},
  });
  const full = (index: number) => ({
    index,
    uuid: `GPU-0000000${index}-aaaa-bbbb-cccc-dddddddddddd`,
    name: 'NVIDIA A100-SXM4-80GB',
    memoryMiB: 81920,
    migEnabled: false,
    migSlots: [],
  });
  const alloc = (slot: string, profile: string, eq: number, deviceId: string) =>
    GpuAllocated({
      requestId: 'req-1',
      slot,
      gpuIndex: Number(slot.split('.')[0]),
      profile,
      gpuEquivalents: eq,
      deviceId,
      user: 'alice',
      containerId: ALICE_BOX,
      observation: 'observed',
      since: at(50),
    });
  const usageWindow = (slot: string, migProfile: string | null, sm: number) =>
    GpuUsageWindowRecorded({
      host: HOST,
      windowStart,
      windowEnd,
      device: { gpuIndex: Number(slot.split('.')[0]), slot, uuid: 'GPU-x', migProfile },
      holder: { containerId: ALICE_BOX, user: 'alice' },
      samples: 10,
      gpuUtilization: null,
      grEngineActive: { mean: sm, max: sm },
      smActive: { mean: sm },
      dramActive: null,
      memoryUsedMaxBytes: 1e9,
      powerMeanWatts: 200,
      energyJoules: 60_000,
      processes: [],
    });
  const migSlot = (device: number, profile: string, gi: number) => ({
    slot: `2.${device}`,
    gpuIndex: 2,
    migDevice: device,
    profile,
    uuid: `MIG-2${device}000000-aaaa-bbbb-cccc-dddddddddddd`,
    gpuInstanceId: gi,
    computeInstanceId: 0,
    memoryMiB: 40_000,
  });
  return [
    {
      stream: 'user-alice',
      event: UserRegistered({ user: 'alice', uid: 1001, group: 'student' }),
      at: at(90),
    },
    {
      stream: 'user-bob',
      event: UserRegistered({ user: 'bob', uid: 1002, group: 'researcher' }),
      at: at(90),
    },
    {
      stream: gpuInventoryStream(HOST),
      event: GpuInventoryObserved({
        inventory: {
          source: 'nvidia-smi',
          gpus: [
            full(0),
            full(1),
            { ...full(2), migEnabled: true, migSlots: [migSlot(0, '3g.40gb', 1), migSlot(1, '3g.40gb', 2)] },
            full(3),
          ],
        },
        at: at(80),
      }),
      at: at(80),
    },
    {
      stream: containerStream(ALICE_BOX),
      event: ContainerCreated({ ...ref(ALICE_BOX, 'notebook._.1001'), image: 'busybox', labels: {} }),
      at: at(60),
    },
    {
      stream: containerStream(ALICE_BOX),
      event: ContainerDescribed({
        ...ref(ALICE_BOX, 'notebook._.1001'),
        describedFrom: 'inspect',
        ...description('alice', true, {
          access: 'specific',
          devices: ['GPU-0', 'MIG-20'],
          via: 'device_request',
        }),
      }),
      at: at(60),
    },
    {
      stream: containerStream(ALICE_BOX),
      event: ContainerStarted({ ...ref(ALICE_BOX, 'notebook._.1001'), startedAt: at(55) }),
      at: at(55),
    },
    { stream: gpuPoolStream(HOST), event: alloc('0', 'full', 1, 'GPU-0'), at: at(50) },
    { stream: gpuPoolStream(HOST), event: alloc('2.0', '3g.40gb', 3 / 7, 'MIG-20'), at: at(50) },
    {
      stream: gpuPoolStream(HOST),
      event: GpuAllocationDenied({
        requestId: 'req-2',
        user: 'bob',
        containerId: null,
        request: { count: 4, profile: 'full' },
        reason: { code: 'over_quota', held: 0, requested: 4, limit: 2 },
        message: 'over quota',
        at: at(45),
      }),
      at: at(45),
    },
    {
      stream: containerStream(STRAY),
      event: ContainerCreated({ ...ref(STRAY, 'stray'), image: 'busybox', labels: {} }),
      at: at(40),
    },
    {
      stream: containerStream(STRAY),
      event: ContainerDescribed({
        ...ref(STRAY, 'stray'),
        describedFrom: 'inspect',
        ...description('bob', false, { access: 'all', via: 'device_request' as const }),
      }),
      at: at(40),
    },
    {
      stream: containerStream(STRAY),
      event: UnmanagedContainerDetected({
        ...ref(STRAY, 'stray'),
        owner: { user: 'bob', rule: 'cgroup_slice', evidence: 'test' },
        interface: 'docker',
        type: 'docker',
        image: 'busybox',
        gpu: { access: 'all', via: 'device_request' },
      }),
      at: at(40),
    },
    {
      stream: containerStream(STRAY),
      event: ContainerStarted({ ...ref(STRAY, 'stray'), startedAt: at(39) }),
      at: at(39),
    },
    {
      stream: containerStream(ALICE_BOX),
      event: ContainerOutOfMemory({ ...ref(ALICE_BOX, 'notebook._.1001') }),
      at: at(30),
    },
    { stream: gpuUsageStream(HOST, windowStart), event: usageWindow('0', null, 0.6), at: at(5) },
    { stream: gpuUsageStream(HOST, windowStart), event: usageWindow('2.0', '3g.40gb', 0.02), at: at(5) },
    {
      stream: containerUsageStream(HOST, windowStart),
      event: ContainerResourceWindowRecorded({
        host: HOST,
        windowStart,
        windowEnd,
        containerId: ALICE_BOX,
        user: 'alice',
        samples: 10,
        cpuSeconds: 150,
        cpuMeanCores: 0.5,
        cpuMaxCores: 1,
        memoryMaxBytes: 2e9,
        memoryLimitBytes: 32e9,
        ioReadBytes: 0,
        ioWriteBytes: 0,
        pidsMax: 12,
        networkRxBytes: null,
        networkTxBytes: null,
      }),
      at: at(5),
    },
    {
      stream: 'host-gpu-processes',
      event: UnattributedGpuProcess({
        pid: 4242,
        processKey: '4242:1000',
        uid: null,
        gpuUuid: 'GPU-1',
        slot: '0',
        command: 'python',
        usedMemoryMiB: 900,
        reason: 'its /proc entry cannot be read',
        at: at(20),
      }),
      at: at(20),
    },
  ];
}
