import type { GpuInventory, PhysicalGpu } from '@ds01/domain';
import { z } from 'zod';
import type { ComputeApp } from './queryCsv.ts';
import type { SmiXmlLog } from './smiXml.ts';

export const GpuProcessSchema = z.object({
  pid: z.number().int().positive(),
  gpuIndex: z.number().int().nonnegative(),
  gpuUuid: z.string(),
  /**
   * The slot the process runs on ("2", "1.0"); null on a MIG GPU when nvidia-smi did not say which
   * MIG device (`--query-compute-apps` never does).
   */
  slot: z.string().nullable(),
  /** The MIG device's UUID when the slot is a MIG slot. */
  migUuid: z.string().nullable(),
  /** "C" compute, "G" graphics, "C+G"; null when unknown. */
  type: z.string().nullable(),
  name: z.string(),
  usedMemoryMiB: z.number().nonnegative().nullable(),
});
export type GpuProcess = z.infer<typeof GpuProcessSchema>;

/**
 * The processes of `nvidia-smi -q -x`, each on its slot: a process on a MIG GPU is placed by its GPU
 * and compute instance ids. Processes of a GPU the inventory does not hold are left out.
 */
export function gpuProcessesFromXml(inventory: GpuInventory, xml: SmiXmlLog): GpuProcess[] {
  return xml.gpus.flatMap((described) => {
    const gpu = inventory.gpus.find((candidate) => candidate.uuid === described.uuid);
    if (!gpu) return [];
    return described.processes.map((process) => ({
      pid: process.pid,
      ...placeOn(gpu, process.gpuInstanceId, process.computeInstanceId),
      type: process.type,
      name: process.name,
      usedMemoryMiB: process.usedMemoryMiB,
    }));
  });
}

/**
 * The processes of `nvidia-smi --query-compute-apps`. That CSV names only the parent GPU, so a process
 * on a MIG GPU gets no slot (use the XML for that).
 */
export function gpuProcessesFromComputeApps(
  inventory: GpuInventory,
  apps: readonly ComputeApp[],
): GpuProcess[] {
  return apps.flatMap((app) => {
    const gpu = inventory.gpus.find((candidate) => candidate.uuid === app.gpuUuid);
    if (!gpu) return [];
    return [
      {
        pid: app.pid,
        ...placeOn(gpu, null, null),
        type: 'C',
        name: app.processName,
        usedMemoryMiB: app.usedMemoryMiB,
      },
    ];
  });
}

function placeOn(gpu: PhysicalGpu, gpuInstanceId: number | null, computeInstanceId: number | null) {
  const where = { gpuIndex: gpu.index, gpuUuid: gpu.uuid };
  if (!gpu.migEnabled) return { ...where, slot: String(gpu.index), migUuid: null };
  const mig = gpu.migSlots.find(
    (slot) =>
      gpuInstanceId !== null &&
      slot.gpuInstanceId === gpuInstanceId &&
      slot.computeInstanceId === computeInstanceId,
  );
  return { ...where, slot: mig?.slot ?? null, migUuid: mig?.uuid ?? null };
}
