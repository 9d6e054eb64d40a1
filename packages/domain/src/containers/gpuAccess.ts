import { z } from 'zod';
import type { ContainerInspect } from './inspect.ts';

/**
 * Which GPUs a container can reach, ds01-infra's `access_type` (gpu-state-reader `_get_gpu_access_info`)
 * extended with where DS01 saw it:
 *   none      no GPU
 *   all       every GPU (`--gpus all`, NVIDIA_VISIBLE_DEVICES=all)
 *   count     n GPUs the runtime picks (`--gpus 2`)
 *   specific  these devices (`--gpus device=GPU-…,1`, `--device /dev/nvidia1`)
 *   unknown   DS01 could not inspect the container (it was gone before it could look)
 * `via` says which part of the container's config grants it: a DeviceRequest, /dev/nvidia<N> devices
 * passed in, or NVIDIA_VISIBLE_DEVICES under the nvidia runtime.
 */
export const GpuAccess = z.discriminatedUnion('access', [
  z.strictObject({ access: z.literal('none') }),
  z.strictObject({ access: z.literal('unknown') }),
  z.strictObject({ access: z.literal('all'), via: z.enum(['device_request', 'environment']) }),
  z.strictObject({
    access: z.literal('count'),
    count: z.number().int().positive(),
    via: z.literal('device_request'),
  }),
  z.strictObject({
    access: z.literal('specific'),
    /** GPU/MIG UUIDs or indices, as the container names them. */
    devices: z.array(z.string().min(1)).min(1),
    via: z.enum(['device_request', 'devices', 'environment']),
  }),
]);
export type GpuAccess = z.infer<typeof GpuAccess>;

const NVIDIA_DEVICE = /^\/dev\/nvidia(\d+)$/;

/**
 * The GPU access a container's config grants. Sources in order of authority: the DeviceRequests
 * (`--gpus`), then /dev/nvidia<N> devices, then NVIDIA_VISIBLE_DEVICES — which only means anything when
 * the container runs under the nvidia runtime (every CUDA image sets it to `all`; under runc it grants
 * nothing). `defaultRuntime` is the daemon's (`docker info`), used when the container names none.
 */
export function gpuAccessOf(inspect: ContainerInspect, defaultRuntime = 'runc'): GpuAccess {
  for (const request of inspect.HostConfig.DeviceRequests) {
    const isNvidia = request.Driver === 'nvidia' || request.Capabilities.some((caps) => caps.includes('gpu'));
    if (!isNvidia) continue;
    if (request.DeviceIDs.length > 0) {
      return { access: 'specific', devices: request.DeviceIDs, via: 'device_request' };
    }
    if (request.Count === -1) return { access: 'all', via: 'device_request' };
    if ((request.Count ?? 0) > 0) return { access: 'count', count: request.Count!, via: 'device_request' };
  }
  const devices = inspect.HostConfig.Devices.map((d) => NVIDIA_DEVICE.exec(d.PathOnHost)?.[1]).filter(
    (index): index is string => index !== undefined,
  );
  if (devices.length > 0) return { access: 'specific', devices, via: 'devices' };
  const runtime = inspect.HostConfig.Runtime || defaultRuntime;
  if (runtime === 'nvidia') {
    const visible = inspect.Config.Env.find((e) => e.startsWith('NVIDIA_VISIBLE_DEVICES='))?.split('=')[1];
    const value = visible?.trim() ?? '';
    if (value === 'all') return { access: 'all', via: 'environment' };
    if (value !== '' && value !== 'none' && value !== 'void') {
      return { access: 'specific', devices: value.split(',').map((d) => d.trim()), via: 'environment' };
    }
  }
  return { access: 'none' };
}
