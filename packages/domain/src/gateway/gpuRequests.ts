import type { GpuRequest } from '../allocation/events.ts';
import { GpuProfile } from '../values.ts';
import type { CreateBody, CreateDeviceRequest, HostConfig } from './createBody.ts';
import { type CreateRefusal, refuse } from './createRules.ts';

/**
 * GPUs at container create. The caller asks (`--gpus 2`, `--gpus all`, `--gpus device=0,1`,
 * compose's `deploy.resources.reservations.devices`): the policy turns that into a count for the
 * allocator and strips it; the gateway puts back exactly the devices the allocator granted
 * (withGrantedDevices). Every other way to a GPU is refused, and a container without a grant gets
 * NVIDIA_VISIBLE_DEVICES=void, so that an image's `NVIDIA_VISIBLE_DEVICES=all` (every CUDA image has
 * it) reaches nothing even where the nvidia runtime is the daemon's default.
 */

const VISIBLE = 'NVIDIA_VISIBLE_DEVICES';
const CUDA_VISIBLE = 'CUDA_VISIBLE_DEVICES';
/** Values of NVIDIA_VISIBLE_DEVICES that reach no GPU (`none` mounts the driver's tools, no device). */
const NO_DEVICE = new Set(['', 'void', 'none']);
/** The NVIDIA toolkit's other switches that mount device nodes (GPUDirect, GDS, MOFED, NVSwitch). */
const DEVICE_SWITCHES = ['NVIDIA_GDRCOPY', 'NVIDIA_GDS', 'NVIDIA_MOFED', 'NVIDIA_NVSWITCH'];
/** The NVIDIA toolkit reads mounts under this path as a list of devices to inject. */
export const NVIDIA_DEVICE_MOUNTS = '/var/run/nvidia-container-devices';

const GPU_DEVICE_NODE = /^\/dev\/(nvidia|dri(\/|$))/;

const isGpuRequest = (r: CreateDeviceRequest) =>
  r.Driver === 'nvidia' || (r.Capabilities ?? []).some((caps) => caps.includes('gpu'));

/**
 * The GPU request of a create, as a count (profile left to the allocator): `--gpus N` is N,
 * `--gpus device=a,b` is as many devices as it names (DS01 chooses which), and `--gpus all` is one,
 * as ds01-infra's wrapper read it (dev containers and compose files say `all` to mean "a GPU").
 */
export function readGpuRequest(
  host: HostConfig,
  maxSlots: number | null,
): { request: GpuRequest | null } | CreateRefusal {
  const requests = host.DeviceRequests ?? [];
  const other = requests.find((r) => !isGpuRequest(r));
  if (other) {
    return refuse(
      'gpu-request',
      `a device request of driver "${other.Driver ?? ''}" (capabilities ${JSON.stringify(other.Capabilities ?? [])}) ` +
        'is not a GPU request DS01 can grant: ask for GPUs with --gpus N',
    );
  }
  if (requests.length > 1) {
    return refuse('gpu-request', `${requests.length} GPU requests in one container: ask once, with --gpus N`);
  }
  const [gpu] = requests;
  if (!gpu) return { request: null };
  const ids = gpu.DeviceIDs ?? [];
  const count = ids.length > 0 ? ids.length : gpu.Count === -1 ? 1 : (gpu.Count ?? 0);
  if (count < 0)
    return refuse('gpu-request', `--gpus ${gpu.Count} is not a number of GPUs: ask with --gpus N`);
  if (count === 0) return { request: null };
  if (maxSlots !== null && count > maxSlots) {
    return refuse(
      'gpu-slots-per-container',
      `${count} GPU devices asked, and you may use at most ${maxSlots} per container ` +
        `(max_gpu_slots_per_container): ask for fewer with --gpus N`,
    );
  }
  // `ds01 container deploy --profile P` names the MIG profile in the request's options (the nvidia
  // driver ignores options it does not know; the grant replaces the whole request anyway).
  const asked = gpu.Options?.[GPU_PROFILE_OPTION];
  if (asked === undefined || asked === '') return { request: { count, profile: null } };
  const profile = GpuProfile.safeParse(asked);
  if (!profile.success) {
    return refuse(
      'gpu-request',
      `${JSON.stringify(asked)} is not a GPU profile: ask for "full" or a MIG profile such as 1g.10gb`,
    );
  }
  return { request: { count, profile: profile.data } };
}

/** The DeviceRequest option that names the profile asked for (`full`, `1g.10gb`, ...). */
export const GPU_PROFILE_OPTION = 'ds01.profile';

/** Raw GPU device nodes, device cgroup rules (a rule can open /dev/nvidia* to mknod) and other devices. */
export function checkDevices(host: HostConfig, allowlist: readonly string[]): CreateRefusal | undefined {
  for (const device of host.Devices ?? []) {
    const path = device.PathOnHost ?? '';
    if (GPU_DEVICE_NODE.test(path)) {
      return refuse(
        'gpu-devices',
        `the device ${path} is a GPU's: DS01 gives GPUs only as it grants them; ask with --gpus N`,
      );
    }
    if (!allowlist.includes(path)) {
      return refuse(
        'devices',
        `the host device ${path} may not be passed in (allowed: ${allowlist.join(', ') || 'none'}); ` +
          'ask an admin if your work needs it',
      );
    }
  }
  const rules = host.DeviceCgroupRules ?? [];
  if (rules.length > 0) {
    return refuse(
      'gpu-devices',
      `device cgroup rules (${rules.join(', ')}) open host devices to the container: leave --device-cgroup-rule out`,
    );
  }
  return undefined;
}

/** Environment that reaches GPUs past the grant: NVIDIA_VISIBLE_DEVICES, device switches, UUIDs. */
export function checkGpuEnvironment(env: readonly string[]): CreateRefusal | undefined {
  for (const [name, value] of env.map(splitEnv)) {
    if (name === VISIBLE && !NO_DEVICE.has(value.trim())) {
      return refuse(
        'gpu-environment',
        `${VISIBLE}=${value} would reach GPUs DS01 did not grant: leave it out and ask with --gpus N ` +
          '(DS01 sets it to the devices it grants)',
      );
    }
    if (DEVICE_SWITCHES.includes(name) && value.trim() !== '' && value.trim() !== 'disabled') {
      return refuse('gpu-environment', `${name}=${value} mounts host devices: leave it out`);
    }
    if (name === CUDA_VISIBLE && /(GPU|MIG)-/i.test(value)) {
      return refuse(
        'gpu-environment',
        `${CUDA_VISIBLE}=${value} names a device by its UUID, and DS01 chooses the devices: ` +
          'ask with --gpus N and, if you must, pick among them by index (CUDA_VISIBLE_DEVICES=0)',
      );
    }
  }
  return undefined;
}

/** The container reaches no GPU: every NVIDIA_VISIBLE_DEVICES replaced by `void` (kept if `none`). */
export function withoutGpus(body: CreateBody): void {
  const env = body.Env ?? [];
  const given = env
    .map(splitEnv)
    .find(([name]) => name === VISIBLE)?.[1]
    .trim();
  body.Env = [...withoutVariable(env, VISIBLE), `${VISIBLE}=${given === 'none' ? 'none' : 'void'}`];
  if (body.HostConfig) body.HostConfig.DeviceRequests = [];
}

/**
 * The allowed body with the granted devices (GPU-…/MIG-… UUIDs, as the allocator's slots name them):
 * one nvidia DeviceRequest naming them, NVIDIA_VISIBLE_DEVICES set to them for the nvidia runtime,
 * and, for a single device, CUDA_VISIBLE_DEVICES as ds01-infra's mlc set it (unless the caller set
 * one). The label `ds01.gpu.uuids` records them as ds01-infra's creators did.
 */
export function withGrantedDevices(body: object, devices: readonly string[]): Record<string, unknown> {
  const copy = structuredClone(body) as CreateBody;
  const ids = [...devices];
  const host: HostConfig = copy.HostConfig ?? {};
  // No device granted, no request: a DeviceRequest naming nothing is the driver's to interpret.
  host.DeviceRequests =
    ids.length === 0
      ? []
      : [{ Driver: 'nvidia', Count: 0, DeviceIDs: ids, Capabilities: [['gpu']], Options: {} }];
  copy.HostConfig = host;
  let env = withoutVariable(copy.Env ?? [], VISIBLE);
  env = [...env, `${VISIBLE}=${ids.length > 0 ? ids.join(',') : 'void'}`];
  const callerSetCuda = env.some((e) => splitEnv(e)[0] === CUDA_VISIBLE);
  if (ids.length === 1 && !callerSetCuda) env.push(`${CUDA_VISIBLE}=${ids[0]}`);
  copy.Env = env;
  if (ids.length > 0) copy.Labels = { ...(copy.Labels ?? {}), 'ds01.gpu.uuids': ids.join(',') };
  return copy;
}

function splitEnv(entry: string): [string, string] {
  const at = entry.indexOf('=');
  return at < 0 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
}

function withoutVariable(env: readonly string[], name: string): string[] {
  return env.filter((e) => splitEnv(e)[0] !== name);
}
