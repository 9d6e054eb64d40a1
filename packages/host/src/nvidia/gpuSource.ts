import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import type { GpusConfig } from '@ds01/config';
import { simulatedInventory } from '@ds01/config';
import { type GpuProbeResult, probeNvidiaSmi } from './probeNvidiaSmi.ts';

/** Where the GPU inventory comes from: the real GPUs through nvidia-smi, or the simulated list. */
export interface GpuSource {
  readonly kind: 'nvidia-smi' | 'simulated';
  /** For log lines: "nvidia-smi (/usr/bin/nvidia-smi)", "simulated (4 GPUs from ds01.yaml)". */
  readonly description: string;
  probe(): Promise<GpuProbeResult>;
}

export function nvidiaSmiSource(binary: string, timeoutMs: number): GpuSource {
  return {
    kind: 'nvidia-smi',
    description: `nvidia-smi (${binary})`,
    probe: () => probeNvidiaSmi({ binary, timeoutMs }),
  };
}

export function simulatedSource(gpus: GpusConfig['simulated']): GpuSource {
  const inventory = simulatedInventory(gpus);
  return {
    kind: 'simulated',
    description: `simulated (${gpus.length} GPU${gpus.length === 1 ? '' : 's'} from ds01.yaml gpus.simulated)`,
    probe: async () => ({ inventory: structuredClone(inventory), processes: [], xml: null }),
  };
}

/**
 * The source `gpus.mode` asks for; `auto` takes nvidia-smi when the binary can be run (found on
 * PATH, or at the configured path) and the simulated list otherwise.
 */
export async function selectGpuSource(
  config: GpusConfig,
  env: Record<string, string | undefined> = process.env,
): Promise<GpuSource> {
  const timeoutMs = config.probe_timeout_seconds * 1000;
  if (config.mode === 'simulated') return simulatedSource(config.simulated);
  if (config.mode === 'nvidia-smi') return nvidiaSmiSource(config.nvidia_smi, timeoutMs);
  const found = await findExecutable(config.nvidia_smi, env['PATH'] ?? '');
  return found ? nvidiaSmiSource(found, timeoutMs) : simulatedSource(config.simulated);
}

/** The path a command name would run from (like `command -v`), or null. */
export async function findExecutable(command: string, path: string): Promise<string | null> {
  const candidates = command.includes('/')
    ? [command]
    : path
        .split(delimiter)
        .filter((dir) => isAbsolute(dir))
        .map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not here: try the next directory
    }
  }
  return null;
}
