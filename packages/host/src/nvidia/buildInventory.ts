import type { GpuInventory, MigSlot, PhysicalGpu } from '@ds01/domain';
import { NvidiaInconsistentOutputError } from './errors.ts';
import type { QueryGpuRow } from './queryCsv.ts';
import type { SmiList, SmiListGpu, SmiListMigDevice } from './smiList.ts';
import type { SmiXmlGpu, SmiXmlLog, SmiXmlMigDevice } from './smiXml.ts';

const COMMANDS = 'nvidia-smi -L and nvidia-smi -q -x';

export interface SmiOutputs {
  /** `nvidia-smi -L`: which GPUs and MIG devices exist, their indices, profiles and UUIDs. */
  list: SmiList;
  /** `nvidia-smi -q -x`: memory, MIG mode, GPU/compute instance ids. */
  xml?: SmiXmlLog | null;
  /** `nvidia-smi --query-gpu`: memory and MIG mode where there is no XML. */
  queryGpu?: readonly QueryGpuRow[] | null;
}

/**
 * Joins what nvidia-smi says into one inventory. `-L` decides what exists and names the slots
 * (ds01-infra's "<gpu index>" and "<gpu index>.<MIG device>"); the XML and the CSV add what `-L`
 * lacks, matched by GPU UUID, and MIG devices by device number (or by GPU/compute instance ids where
 * a legacy MIG UUID carries them). Given an XML, it must describe exactly the GPUs -L lists; outputs
 * that contradict each other (a MIG reconfiguration or a GPU lost between the calls) are an
 * NvidiaInconsistentOutputError.
 */
export function buildInventory({ list, xml, queryGpu }: SmiOutputs): GpuInventory {
  const listed = new Set(list.gpus.map((gpu) => gpu.uuid));
  const unlisted = xml?.gpus.find((gpu) => !listed.has(gpu.uuid));
  if (unlisted) {
    throw new NvidiaInconsistentOutputError(
      COMMANDS,
      `-q -x describes GPU ${unlisted.uuid} (${unlisted.name}), which -L does not list`,
    );
  }
  // Both read the same driver: an XML without one of -L's GPUs (or with none) saw other GPUs.
  const described = new Set(xml?.gpus.map((gpu) => gpu.uuid));
  const undescribed = xml ? list.gpus.find((gpu) => !described.has(gpu.uuid)) : undefined;
  if (undescribed) {
    throw new NvidiaInconsistentOutputError(
      COMMANDS,
      `-L lists GPU ${undescribed.index} (${undescribed.uuid}), which -q -x does not describe ` +
        `(it describes ${xml!.gpus.length} of the ${list.gpus.length} GPUs -L lists)`,
    );
  }
  const gpus = [...list.gpus]
    .sort((a, b) => a.index - b.index)
    .map((gpu) =>
      buildGpu(
        gpu,
        xml?.gpus.find((described) => described.uuid === gpu.uuid),
        queryGpu?.find((row) => row.uuid === gpu.uuid),
      ),
    );
  return { source: 'nvidia-smi', gpus };
}

function buildGpu(
  gpu: SmiListGpu,
  described: SmiXmlGpu | undefined,
  row: QueryGpuRow | undefined,
): PhysicalGpu {
  const migEnabled = described?.migEnabled ?? row?.migEnabled ?? gpu.migDevices.length > 0;
  if (!migEnabled && gpu.migDevices.length > 0) {
    throw new NvidiaInconsistentOutputError(
      COMMANDS,
      `-L lists MIG devices on GPU ${gpu.index}, but its MIG mode is reported as off`,
    );
  }
  const xmlDevices = described?.migDevices ?? null;
  if (migEnabled && xmlDevices && xmlDevices.length !== gpu.migDevices.length) {
    throw new NvidiaInconsistentOutputError(
      COMMANDS,
      `GPU ${gpu.index} has ${gpu.migDevices.length} MIG devices in -L but ${xmlDevices.length} in -q -x`,
    );
  }
  return {
    index: gpu.index,
    uuid: gpu.uuid,
    name: gpu.name,
    memoryMiB: described?.memoryTotalMiB ?? row?.memoryTotalMiB ?? null,
    migEnabled,
    migSlots: gpu.migDevices.map((device) => buildMigSlot(gpu, device, xmlDevices)),
  };
}

function buildMigSlot(
  gpu: SmiListGpu,
  device: SmiListMigDevice,
  xmlDevices: readonly SmiXmlMigDevice[] | null,
): MigSlot {
  const described = xmlDevices?.find((candidate) => candidate.index === device.device);
  if (xmlDevices && !described) {
    throw new NvidiaInconsistentOutputError(
      COMMANDS,
      `-L lists MIG device ${device.device} on GPU ${gpu.index}, which -q -x does not describe`,
    );
  }
  const gpuInstanceId = device.gpuInstanceId ?? described?.gpuInstanceId ?? null;
  const computeInstanceId = device.computeInstanceId ?? described?.computeInstanceId ?? null;
  if (
    described &&
    device.gpuInstanceId !== null &&
    (described.gpuInstanceId !== device.gpuInstanceId ||
      described.computeInstanceId !== device.computeInstanceId)
  ) {
    throw new NvidiaInconsistentOutputError(
      COMMANDS,
      `MIG device ${gpu.index}.${device.device} is GPU instance ${device.gpuInstanceId}/compute instance ` +
        `${device.computeInstanceId} in -L but ${described.gpuInstanceId}/${described.computeInstanceId} in -q -x`,
    );
  }
  return {
    slot: `${gpu.index}.${device.device}`,
    gpuIndex: gpu.index,
    migDevice: device.device,
    profile: device.profile,
    uuid: device.uuid,
    gpuInstanceId,
    computeInstanceId,
    memoryMiB: described?.memoryTotalMiB ?? null,
  };
}
