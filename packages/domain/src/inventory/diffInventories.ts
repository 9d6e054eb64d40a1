import { allocatableSlots, type GpuInventory, type MigSlot, type PhysicalGpu } from './inventory.ts';

/** One way two inventories differ, GPU by GPU (GPUs are matched by UUID, not by index). */
export type GpuInventoryChange =
  | { kind: 'appeared'; gpu: PhysicalGpu; movedFrom: number | null }
  | { kind: 'lost'; gpu: PhysicalGpu; movedTo: number | null }
  | {
      kind: 'migLayoutChanged';
      gpuIndex: number;
      uuid: string;
      before: { migEnabled: boolean; slots: MigSlot[] };
      after: { migEnabled: boolean; slots: MigSlot[] };
      removedSlots: string[];
      addedSlots: string[];
    };

/**
 * What changed from one inventory to the next: GPUs lost, GPUs appeared (a GPU renumbered is both,
 * with movedTo/movedFrom), MIG layouts changed. Other differences (a name, a memory size) are not
 * changes of what can be allocated and give no entry. Lost GPUs come first, then appeared, then MIG
 * changes, each in index order.
 */
export function diffInventories(before: GpuInventory, after: GpuInventory): GpuInventoryChange[] {
  const afterByUuid = new Map(after.gpus.map((gpu) => [gpu.uuid, gpu]));
  const beforeByUuid = new Map(before.gpus.map((gpu) => [gpu.uuid, gpu]));
  const byIndex = (a: { index: number }, b: { index: number }) => a.index - b.index;

  const lost = [...before.gpus]
    .sort(byIndex)
    .filter((gpu) => afterByUuid.get(gpu.uuid)?.index !== gpu.index)
    .map(
      (gpu): GpuInventoryChange => ({ kind: 'lost', gpu, movedTo: afterByUuid.get(gpu.uuid)?.index ?? null }),
    );
  const appeared = [...after.gpus]
    .sort(byIndex)
    .filter((gpu) => beforeByUuid.get(gpu.uuid)?.index !== gpu.index)
    .map(
      (gpu): GpuInventoryChange => ({
        kind: 'appeared',
        gpu,
        movedFrom: beforeByUuid.get(gpu.uuid)?.index ?? null,
      }),
    );
  const migChanged = [...after.gpus].sort(byIndex).flatMap((gpu): GpuInventoryChange[] => {
    const previous = beforeByUuid.get(gpu.uuid);
    if (!previous || previous.index !== gpu.index) return [];
    const removedSlots = slotsNotIn(previous, gpu);
    const addedSlots = slotsNotIn(gpu, previous);
    if (previous.migEnabled === gpu.migEnabled && removedSlots.length === 0 && addedSlots.length === 0)
      return [];
    return [
      {
        kind: 'migLayoutChanged',
        gpuIndex: gpu.index,
        uuid: gpu.uuid,
        before: { migEnabled: previous.migEnabled, slots: previous.migSlots },
        after: { migEnabled: gpu.migEnabled, slots: gpu.migSlots },
        removedSlots,
        addedSlots,
      },
    ];
  });
  return [...lost, ...appeared, ...migChanged];
}

/** Whether two inventories are the same in every field (the order of GPUs and slots aside). */
export function sameInventory(a: GpuInventory, b: GpuInventory): boolean {
  return canonical(a) === canonical(b);
}

/**
 * Slots of `before` that no longer name the same device in `after` (gone, or another profile or
 * UUID behind the same name): what allocations held there have lost.
 */
export function removedSlots(before: GpuInventory, after: GpuInventory): string[] {
  const now = new Set(allocatableSlots(after).map(slotKey));
  return allocatableSlots(before)
    .filter((slot) => !now.has(slotKey(slot)))
    .map((slot) => slot.slot);
}

function slotsNotIn(gpu: PhysicalGpu, other: PhysicalGpu): string[] {
  const single = (inventoryGpu: PhysicalGpu) => ({ source: 'nvidia-smi' as const, gpus: [inventoryGpu] });
  return removedSlots(single(gpu), single(other));
}

function slotKey(slot: { slot: string; profile: string; deviceId: string }): string {
  return `${slot.slot}|${slot.profile}|${slot.deviceId}`;
}

function canonical(inventory: GpuInventory): string {
  const gpus = [...inventory.gpus]
    .sort((x, y) => x.index - y.index)
    .map((gpu) => ({
      ...gpu,
      migSlots: [...gpu.migSlots].sort((x, y) => x.migDevice - y.migDevice).map((slot) => sortKeys(slot)),
    }))
    .map((gpu) => sortKeys(gpu));
  return JSON.stringify({ source: inventory.source, gpus });
}

function sortKeys<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b))) as T;
}
