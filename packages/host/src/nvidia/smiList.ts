import { z } from 'zod';
import { NvidiaOutputError } from './errors.ts';

const COMMAND = 'nvidia-smi -L';

export const SmiListMigDeviceSchema = z.object({
  /** "Device N": the second half of ds01-infra's slot name "<gpu>.<N>". */
  device: z.number().int().nonnegative(),
  /** "3g.40gb", or "1c.3g.71gb" for one compute instance of a shared GPU instance. */
  profile: z.string(),
  uuid: z.string(),
  /** Only the legacy UUID (driver 450: MIG-GPU-<gpu uuid>/<gi>/<ci>) carries the instance ids. */
  gpuInstanceId: z.number().int().nonnegative().nullable(),
  computeInstanceId: z.number().int().nonnegative().nullable(),
});
export type SmiListMigDevice = z.infer<typeof SmiListMigDeviceSchema>;

export const SmiListGpuSchema = z.object({
  index: z.number().int().nonnegative(),
  name: z.string(),
  uuid: z.string(),
  migDevices: z.array(SmiListMigDeviceSchema),
});
export type SmiListGpu = z.infer<typeof SmiListGpuSchema>;

export const SmiListSchema = z.object({ gpus: z.array(SmiListGpuSchema) });
export type SmiList = z.infer<typeof SmiListSchema>;

// "GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-513536b6-7d19-9063-b049-1e69664bb298)"
const GPU_LINE = /^GPU (\d+): (.+) \(UUID: (GPU-[0-9a-fA-F-]+)\)$/;
// "  MIG 3g.40gb     Device  0: (UUID: MIG-…)" — fixed-width padding, so any run of spaces.
const MIG_LINE = /^\s+MIG\s+(\S+)\s+Device\s+(\d+):\s+\(UUID:\s+(MIG-\S+)\)$/;
const LEGACY_MIG_UUID = /^MIG-GPU-[0-9a-fA-F-]+\/(\d+)\/(\d+)$/;
const MIG_PROFILE = /^(\d+c\.)?\d+g\.\d+gb(\+[\w.]+)?$/;

/**
 * Parses `nvidia-smi -L`: each GPU with its index, name and UUID, and under it the MIG devices with
 * their profile, device number and UUID. The only nvidia-smi output that names MIG profiles and MIG
 * UUIDs, so the inventory is built on it.
 */
export function parseSmiList(output: string): SmiList {
  const gpus: SmiListGpu[] = [];
  for (const [i, rawLine] of output.split('\n').entries()) {
    const line = rawLine.replace(/\r$/, '').trimEnd();
    if (line === '') continue;
    const where = `line ${i + 1}`;
    const gpu = GPU_LINE.exec(line);
    const mig = gpu ? null : MIG_LINE.exec(line);
    if (gpu) addGpu(gpus, gpu, where, line);
    else if (mig) addMigDevice(gpus.at(-1), mig, where, line);
    else
      throw new NvidiaOutputError(
        COMMAND,
        where,
        'expected "GPU <n>: <name> (UUID: GPU-…)" or "  MIG <profile> Device <n>: (UUID: MIG-…)"',
        line,
      );
  }
  if (gpus.length === 0) throw new NvidiaOutputError(COMMAND, 'whole output', 'lists no GPU', output);
  return { gpus };
}

function addGpu(gpus: SmiListGpu[], match: RegExpExecArray, where: string, line: string): void {
  const index = wholeNumber(match[1]!, 'GPU index', where, line);
  if (gpus.some((known) => known.index === index))
    throw new NvidiaOutputError(COMMAND, where, `GPU ${index} is listed twice`, line);
  gpus.push({ index, name: match[2]!.trim(), uuid: match[3]!, migDevices: [] });
}

function addMigDevice(
  owner: SmiListGpu | undefined,
  match: RegExpExecArray,
  where: string,
  line: string,
): void {
  if (!owner) throw new NvidiaOutputError(COMMAND, where, 'a MIG device comes before any GPU line', line);
  const profile = match[1]!;
  const device = wholeNumber(match[2]!, 'MIG device number', where, line);
  const uuid = match[3]!;
  if (!MIG_PROFILE.test(profile))
    throw new NvidiaOutputError(COMMAND, where, `'${profile}' is not a MIG profile like 3g.40gb`, line);
  if (owner.migDevices.some((known) => known.device === device))
    throw new NvidiaOutputError(COMMAND, where, `GPU ${owner.index} lists MIG device ${device} twice`, line);
  const legacy = LEGACY_MIG_UUID.exec(uuid);
  owner.migDevices.push({
    device,
    profile,
    uuid,
    gpuInstanceId: legacy ? wholeNumber(legacy[1]!, 'GPU instance id', where, line) : null,
    computeInstanceId: legacy ? wholeNumber(legacy[2]!, 'compute instance id', where, line) : null,
  });
}

/** Digits as a number; more than a double holds exactly is garbled output, not a GPU. */
function wholeNumber(digits: string, what: string, where: string, line: string): number {
  const value = Number(digits);
  if (!Number.isSafeInteger(value))
    throw new NvidiaOutputError(COMMAND, where, `the ${what} ${digits} is out of range`, line);
  return value;
}
