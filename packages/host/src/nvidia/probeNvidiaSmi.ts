import type { GpuInventory } from '@ds01/domain';
import { buildInventory } from './buildInventory.ts';
import { type GpuProcess, gpuProcessesFromXml } from './gpuProcesses.ts';
import { type RunNvidiaSmiOptions, runNvidiaSmi } from './runNvidiaSmi.ts';
import { parseSmiList } from './smiList.ts';
import { parseSmiXml, type SmiXmlLog } from './smiXml.ts';

/** One look at the GPUs: what exists, and what runs on it. */
export interface GpuProbeResult {
  inventory: GpuInventory;
  processes: GpuProcess[];
  /** The whole XML reading (temperatures, power, memory use) for samplers that want more. */
  xml: SmiXmlLog | null;
}

/**
 * Runs `nvidia-smi -L` and `nvidia-smi -q -x` one after the other (never in parallel: each call
 * wakes every GPU) and joins them. Throws NvidiaError subclasses: NvidiaSmiFailedError (timeout,
 * exit code, not found), NvidiaOutputError (garbled), NvidiaInconsistentOutputError.
 */
export async function probeNvidiaSmi(options: RunNvidiaSmiOptions): Promise<GpuProbeResult> {
  const list = parseSmiList(await runNvidiaSmi(['-L'], options));
  const xml = parseSmiXml(await runNvidiaSmi(['-q', '-x'], options));
  const inventory = buildInventory({ list, xml });
  return { inventory, processes: gpuProcessesFromXml(inventory, xml), xml };
}
