import {
  type AllocateGpu,
  type AllocationLimits,
  allocatableSlots,
  type GpuInventory,
  type GpuRequest,
  type PoolSlot,
} from '../../src/index.ts';

/**
 * Simulated pools for the allocation specs, built through the inventory model the probe fills
 * (allocatableSlots), like a host without GPUs does: GPUs 0 and 1 in MIG mode (3g.40gb, 2g.20gb and
 * two 1g.10gb: 7 sevenths each), GPUs 2 and 3 whole.
 */
export const mixedInventory: GpuInventory = {
  source: 'simulated',
  gpus: [0, 1, 2, 3].map((index) => ({
    index,
    uuid: `GPU-0000000${index}-aaaa-bbbb-cccc-000000000000`,
    name: 'NVIDIA A100-SXM4-80GB',
    memoryMiB: 81920,
    migEnabled: index < 2,
    migSlots:
      index < 2
        ? ['3g.40gb', '2g.20gb', '1g.10gb', '1g.10gb'].map((profile, device) => ({
            slot: `${index}.${device}`,
            gpuIndex: index,
            migDevice: device,
            profile,
            uuid: `MIG-${index}${device}000000-aaaa-bbbb-cccc-000000000000`,
            gpuInstanceId: device + 1,
            computeInstanceId: 0,
            memoryMiB: null,
          }))
        : [],
  })),
};

export const mixedPool: PoolSlot[] = allocatableSlots(mixedInventory);

/** Four whole A100s, MIG off: how the reference site runs today. */
export const wholeGpuPool: PoolSlot[] = allocatableSlots({
  source: 'simulated',
  gpus: [0, 1, 2, 3].map((index) => ({
    index,
    uuid: `GPU-1111111${index}-aaaa-bbbb-cccc-000000000000`,
    name: 'NVIDIA A100-SXM4-80GB',
    memoryMiB: 81920,
    migEnabled: false,
    migSlots: [],
  })),
});

/** Four A100s split in seven 1g.10gb slots each: 28 slots (the concurrency pool). */
export const sevenSlicePool: PoolSlot[] = allocatableSlots({
  source: 'simulated',
  gpus: [0, 1, 2, 3].map((index) => ({
    index,
    uuid: `GPU-2222222${index}-aaaa-bbbb-cccc-000000000000`,
    name: 'NVIDIA A100-SXM4-80GB',
    memoryMiB: 81920,
    migEnabled: true,
    migSlots: [0, 1, 2, 3, 4, 5, 6].map((device) => ({
      slot: `${index}.${device}`,
      gpuIndex: index,
      migDevice: device,
      profile: '1g.10gb',
      uuid: `MIG-${index}${device}111111-aaaa-bbbb-cccc-000000000000`,
      gpuInstanceId: device + 7,
      computeInstanceId: 0,
      memoryMiB: 9856,
    })),
  })),
});

/** ds01-infra's HEAD student defaults: 2 GPU-equivalents, 2 slots per container, whole GPUs allowed. */
export const studentLimits: AllocationLimits = {
  quotaGpuEquivalents: 2,
  perContainerSlotCap: 2,
  allowFullGpu: true,
  holdAfterStopHours: 0.25,
  aggregateGpuLimit: null,
};

export const NOW = new Date('2026-03-02T10:00:00.000Z');

export const containerA = 'a'.repeat(64);
export const containerB = 'b'.repeat(64);
export const containerC = 'c'.repeat(64);

export function allocate(
  overrides: Partial<Omit<AllocateGpu, 'type' | 'request'>> & { request?: Partial<GpuRequest> } = {},
): AllocateGpu {
  return {
    type: 'AllocateGpu',
    requestId: 'req-1',
    user: 'alice',
    containerId: containerA,
    limits: studentLimits,
    userStatus: 'active',
    inventory: mixedPool,
    now: NOW,
    ...overrides,
    request: { count: 1, profile: null, ...overrides.request },
  };
}

export function slotOf(pool: readonly PoolSlot[], name: string): PoolSlot {
  const slot = pool.find((s) => s.slot === name);
  if (!slot) throw new Error(`test pool has no slot ${name}`);
  return slot;
}
