import { gpuAccessOf } from '../containers/gpuAccess.ts';
import type { ContainerInspect } from '../containers/inspect.ts';

/**
 * Labels in which ds01-infra wrote the devices a container holds, in the order its state reader
 * trusted them after the container's own DeviceRequests: `ds01.gpu.uuids` (multi-MIG under
 * --runtime=nvidia), `ds01.gpu.uuid`, `ds01.gpu_slot` (docker-wrapper's external allocation, a GPU
 * UUID), then the slot names of `ds01.gpu.allocated` / `ds01.gpu.slots` ("1.0", "0,1").
 */
const DEVICE_LABELS = [
  'ds01.gpu.uuids',
  'ds01.gpu.uuid',
  'ds01.gpu_slot',
  'ds01.gpu.allocated',
  'ds01.gpu.slots',
];

/**
 * The devices (GPU-…/MIG-… UUIDs, indexes or ds01-infra slot names) a container made under
 * ds01-infra holds: the ones its config grants by name (DeviceRequests' device ids, /dev/nvidia<N>,
 * NVIDIA_VISIBLE_DEVICES under the nvidia runtime), else the first device label it carries.
 * A container granted every GPU (`--gpus all`) or a count holds no slot of the pool: ds01-infra never
 * counted those either (they are unmanaged GPU containers, a matter for the gateway).
 */
export function ds01InfraDevices(inspect: ContainerInspect, defaultRuntime: string): string[] {
  const access = gpuAccessOf(inspect, defaultRuntime);
  if (access.access === 'specific') return unique(access.devices);
  for (const label of DEVICE_LABELS) {
    const devices = splitList(inspect.Config.Labels[label]);
    if (devices.length > 0) return devices;
  }
  return [];
}

/** When ds01-infra granted the devices: label `ds01.gpu.allocated_at`, else the container's creation. */
export function ds01InfraGrantTime(inspect: ContainerInspect): Date {
  const labelled = new Date(inspect.Config.Labels['ds01.gpu.allocated_at'] ?? '');
  return Number.isNaN(labelled.getTime()) ? new Date(inspect.Created) : labelled;
}

/** When a stopped container stopped; null when it runs, or was created and never started. */
export function containerStoppedAt(inspect: ContainerInspect): Date | null {
  const { Status, FinishedAt } = inspect.State;
  if (Status !== 'exited' && Status !== 'dead') return null;
  const finished = new Date(FinishedAt);
  return Number.isNaN(finished.getTime()) || finished.getUTCFullYear() < 2000 ? null : finished;
}

function splitList(value: string | undefined): string[] {
  return unique(
    (value ?? '')
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v.length > 0),
  );
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
