import type { GpuInventory, MigSlot, PhysicalGpu } from '../../src/index.ts';

export const NOW = new Date('2026-03-02T10:00:00.000Z');
export const LATER = new Date('2026-03-02T10:05:00.000Z');
export const EVEN_LATER = new Date('2026-03-02T10:10:00.000Z');

/** A whole GPU (MIG off) at an index, with a UUID derived from a letter so tests can move it. */
export function wholeGpu(index: number, id = String.fromCharCode(97 + index)): PhysicalGpu {
  return {
    index,
    uuid: `GPU-${id.repeat(8)}-0000-0000-0000-000000000000`,
    name: 'NVIDIA A100-SXM4-80GB',
    memoryMiB: 81920,
    migEnabled: false,
    migSlots: [],
  };
}

/** A MIG GPU with these profiles, devices in order; `generation` changes the MIG UUIDs (instances made anew). */
export function migGpu(
  index: number,
  profiles: string[],
  generation = 0,
  id = String.fromCharCode(97 + index),
): PhysicalGpu {
  const gpu = wholeGpu(index, id);
  const migSlots = profiles.map(
    (profile, device): MigSlot => ({
      slot: `${index}.${device}`,
      gpuIndex: index,
      migDevice: device,
      profile,
      uuid: `MIG-${id}${index}${generation}${device}0000-0000-0000-0000-000000000000`,
      gpuInstanceId: device + 1,
      computeInstanceId: 0,
      memoryMiB: Number(/\.(\d+)gb/.exec(profile)?.[1]) * 1024,
    }),
  );
  return { ...gpu, migEnabled: true, migSlots };
}

export function inventory(...gpus: PhysicalGpu[]): GpuInventory {
  return { source: 'nvidia-smi', gpus };
}

/** The reference site: 4× A100, GPUs 2 and 3 MIG-partitioned. */
export const site = inventory(
  wholeGpu(0),
  wholeGpu(1),
  migGpu(2, ['3g.40gb', '2g.20gb', '1g.10gb', '1g.10gb']),
  migGpu(3, ['1g.10gb', '1g.10gb', '1g.10gb', '1g.10gb', '1g.10gb', '1g.10gb', '1g.10gb']),
);
