import {
  type GpuDeviceSample,
  type GpuHealthReading,
  type GpuInventory,
  type GpuSampleSet,
  gpuEquivalentsOf,
  type UsageDevice,
} from '@ds01/domain';
import type { DcgmEntity, GpuProcess, SmiXmlGpu, SmiXmlLog } from '@ds01/host';

const MIB = 1024 * 1024;

/** Who a GPU process belongs to: its container (and the container's owner) or a host user. */
export interface ProcessOwner {
  containerId: string | null;
  user: string | null;
}

export interface GpuReadings {
  inventory: GpuInventory;
  /** nvidia-smi -q -x of this cycle; null for the simulated GPUs. */
  xml: SmiXmlLog | null;
  /** dcgm-exporter's entities; null when it is not configured or did not answer. */
  dcgm: readonly DcgmEntity[] | null;
  processes: readonly GpuProcess[];
  owners: ReadonlyMap<number, ProcessOwner>;
  at: Date;
}

/**
 * One sampling cycle as the usage windows take it: a device per whole GPU or MIG slot, its readings
 * from nvidia-smi and dcgm-exporter (a MIG slice's activity only from DCGM's GPU_I_ID series), its
 * processes with their owners, and each GPU's energy counter.
 */
export function gpuSampleOf(readings: GpuReadings): GpuSampleSet {
  const devices: GpuDeviceSample[] = [];
  const energy = new Map<number, number | null>();
  for (const gpu of readings.inventory.gpus) {
    const described = readings.xml?.gpus.find((candidate) => candidate.uuid === gpu.uuid) ?? null;
    const dcgmOf = (gpuInstanceId: number | null) =>
      readings.dcgm?.find((entity) => entity.gpuIndex === gpu.index && entity.gpuInstanceId === gpuInstanceId)
        ?.values ?? {};
    // MIG instances carry their GPU's counter too: take it from any entity of the GPU.
    const counter = readings.dcgm?.find(
      (entity) => entity.gpuIndex === gpu.index && entity.values.energyMillijoules !== undefined,
    );
    energy.set(gpu.index, counter?.values.energyMillijoules ?? null);
    const processesOn = (slot: string) =>
      readings.processes
        .filter((process) => process.slot === slot)
        .map((process) => ({
          pid: process.pid,
          containerId: readings.owners.get(process.pid)?.containerId ?? null,
          user: readings.owners.get(process.pid)?.user ?? null,
          memoryBytes: process.usedMemoryMiB === null ? null : process.usedMemoryMiB * MIB,
        }));
    if (!gpu.migEnabled) {
      const values = dcgmOf(null);
      const device: UsageDevice = {
        gpuIndex: gpu.index,
        slot: String(gpu.index),
        uuid: gpu.uuid,
        migProfile: null,
      };
      devices.push({
        device,
        gpuEquivalents: 1,
        gpuUtilization: described?.utilizationPercent ?? values.gpuUtilization ?? null,
        grEngineActive: values.grEngineActive ?? null,
        smActive: values.smActive ?? null,
        dramActive: values.dramActive ?? null,
        memoryUsedBytes: memoryBytes(described?.memoryUsedMiB ?? values.framebufferUsedMiB),
        powerWatts: described?.powerDrawW ?? null,
        processes: processesOn(device.slot),
      });
      continue;
    }
    for (const mig of gpu.migSlots) {
      const values = mig.gpuInstanceId === null ? {} : dcgmOf(mig.gpuInstanceId);
      const migDevice = described?.migDevices?.find(
        (candidate) =>
          candidate.gpuInstanceId === mig.gpuInstanceId &&
          candidate.computeInstanceId === mig.computeInstanceId,
      );
      devices.push({
        device: { gpuIndex: gpu.index, slot: mig.slot, uuid: mig.uuid ?? mig.slot, migProfile: mig.profile },
        gpuEquivalents: gpuEquivalentsOf(mig.profile),
        // nvidia-smi and DCGM have no utilisation on a MIG slice: only GR_ENGINE_ACTIVE says.
        gpuUtilization: null,
        grEngineActive: values.grEngineActive ?? null,
        smActive: values.smActive ?? null,
        dramActive: values.dramActive ?? null,
        memoryUsedBytes: memoryBytes(migDevice?.memoryUsedMiB ?? values.framebufferUsedMiB),
        powerWatts: null,
        processes: processesOn(mig.slot),
      });
    }
  }
  return { at: readings.at, devices, energyMillijoulesByGpu: energy };
}

function memoryBytes(mib: number | null | undefined): number | null {
  return mib === null || mib === undefined ? null : mib * MIB;
}

/** Each GPU's health readings: ECC, retired pages, throttling and temperature from nvidia-smi, XID from DCGM. */
export function gpuHealthReadingsOf(readings: GpuReadings): GpuHealthReading[] {
  if (!readings.xml) return [];
  return readings.inventory.gpus.flatMap((gpu): GpuHealthReading[] => {
    const described: SmiXmlGpu | undefined = readings.xml?.gpus.find(
      (candidate) => candidate.uuid === gpu.uuid,
    );
    if (!described) return [];
    const { health } = described;
    const xid = readings.dcgm?.find(
      (entity) => entity.gpuIndex === gpu.index && entity.values.xid !== undefined,
    );
    const retired =
      health.retiredPages.singleBit === null && health.retiredPages.doubleBit === null
        ? null
        : (health.retiredPages.singleBit ?? 0) + (health.retiredPages.doubleBit ?? 0);
    return [
      {
        gpuIndex: gpu.index,
        uuid: gpu.uuid,
        temperatureC: described.temperatureC,
        eccVolatileUncorrectable: health.eccVolatile?.uncorrectable ?? null,
        eccAggregateUncorrectable: health.eccAggregate?.uncorrectable ?? null,
        retiredPages: retired,
        retiredPagesPending: health.retiredPages.pending,
        lastXid: xid?.values.xid ?? null,
        throttleReasons: health.throttleReasons,
      },
    ];
  });
}
