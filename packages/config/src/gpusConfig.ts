import { type GpuInventory, MIG_COMPUTE_SLICES_PER_GPU } from '@ds01/domain';
import { Ds01Error } from '@ds01/errors';
import { z } from 'zod';

/** A MIG GPU-instance profile as `nvidia-smi mig -lgip` names it: "3g.40gb", "1g.10gb+me". */
const SIMULATED_MIG_PROFILE = /^([1-7])g\.(\d+)gb(\+me)?$/;

const SimulatedGpu = z
  .strictObject({
    /** As nvidia-smi would name it, e.g. "NVIDIA A100-SXM4-80GB". */
    name: z.string().min(1),
    memory_mib: z.number().int().positive(),
    /** null: MIG off (the GPU is one slot). A list: MIG on, one slot per profile, in device order. */
    mig: z
      .array(
        z
          .string()
          .regex(SIMULATED_MIG_PROFILE, 'must be a MIG GPU-instance profile like "3g.40gb" or "1g.10gb+me"'),
      )
      .nullable()
      .default(null),
  })
  .superRefine((gpu, context) => {
    if (!gpu.mig) return;
    const slices = gpu.mig.reduce((sum, profile) => sum + computeSlices(profile), 0);
    if (slices > MIG_COMPUTE_SLICES_PER_GPU) {
      context.addIssue({
        code: 'custom',
        path: ['mig'],
        message:
          `uses ${slices} compute slices (${gpu.mig.join(' + ')}), but a GPU has ${MIG_COMPUTE_SLICES_PER_GPU}: ` +
          'remove or shrink a profile',
      });
    }
    const tooLarge = gpu.mig.find((profile) => memoryGb(profile) * 1000 > gpu.memory_mib * 1.05);
    if (tooLarge) {
      context.addIssue({
        code: 'custom',
        path: ['mig'],
        message: `profile ${tooLarge} has more memory than the GPU's ${gpu.memory_mib} MiB`,
      });
    }
  });

/**
 * The `gpus:` section of ds01.yaml: where the GPU inventory comes from.
 * - mode: `nvidia-smi` (a GPU server), `simulated` (the list below), `auto` (nvidia-smi when the
 *   binary is there, else simulated);
 * - probe_interval_seconds / probe_timeout_seconds: how often the gpu-sampler looks, how long one
 *   nvidia-smi call may take;
 * - simulated: the GPUs a machine without GPUs pretends to have.
 */
export const GpusConfig = z.strictObject({
  mode: z.enum(['auto', 'nvidia-smi', 'simulated']).default('auto'),
  nvidia_smi: z.string().min(1).default('nvidia-smi'),
  probe_interval_seconds: z.number().positive().default(15),
  probe_timeout_seconds: z.number().positive().default(20),
  simulated: z.array(SimulatedGpu).default([]),
});
export type GpusConfig = z.output<typeof GpusConfig>;
export type GpusConfigInput = z.input<typeof GpusConfig>;

/** The section to compose into ds01.yaml's schema (packages/config `sections`). */
export const gpusSection = { gpus: GpusConfig.optional() };

/** The settings of an absent `gpus:` section. */
export const DEFAULT_GPUS_CONFIG: GpusConfig = GpusConfig.parse({});

/**
 * The inventory a machine without GPUs pretends to have. Slots are named as on a real host (GPU
 * index, "<gpu>.<device>" in list order); UUIDs are marked simulated (`GPU-simulated-<gpu>`,
 * `MIG-simulated-<gpu>-<device>`: a grant is rewritten to UUIDs as on a real host, so the NVIDIA
 * toolkit — the test dockerd's stand-in too — is given device names it knows), MIG instance ids are
 * null, a MIG slot's memory is its profile's nominal size.
 */
export function simulatedInventory(gpus: GpusConfig['simulated']): GpuInventory {
  return {
    source: 'simulated',
    gpus: gpus.map((gpu, index) => ({
      index,
      uuid: `GPU-simulated-${index}`,
      name: gpu.name,
      memoryMiB: gpu.memory_mib,
      migEnabled: gpu.mig !== null,
      migSlots: (gpu.mig ?? []).map((profile, device) => ({
        slot: `${index}.${device}`,
        gpuIndex: index,
        migDevice: device,
        profile,
        uuid: `MIG-simulated-${index}-${device}`,
        gpuInstanceId: null,
        computeInstanceId: null,
        memoryMiB: memoryGb(profile) * 1024,
      })),
    })),
  };
}

function computeSlices(profile: string): number {
  return Number(SIMULATED_MIG_PROFILE.exec(profile)?.[1] ?? 0);
}

function memoryGb(profile: string): number {
  return Number(SIMULATED_MIG_PROFILE.exec(profile)?.[2] ?? 0);
}

/** The `gpus:` section of the validated ds01.yaml (defaults when absent). */
export function gpusConfigOf(yaml: object): GpusConfig {
  const parsed = GpusConfig.safeParse((yaml as { gpus?: unknown }).gpus ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new Ds01Error(`ds01.yaml gpus.${issue.path.join('.')}: ${issue.message}`, {
    hint: 'fix the gpus: section of ds01.yaml (see config/gpus.simulated.example.yaml)',
  });
}
