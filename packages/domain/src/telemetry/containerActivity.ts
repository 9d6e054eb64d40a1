import type { ContainerResourceWindowData } from './containerResourceWindows.ts';
import type { GpuUsageWindowData } from './gpuUsageWindows.ts';

/**
 * What a GPU activity answers: `busy` — did the device do anything (idle detection): DCGM's
 * GR_ENGINE_ACTIVE where it was read, else nvidia-smi's utilisation of a whole GPU (it does not exist
 * on a MIG slice); `work` — how much of it did work (usage accounting): DCGM's SM_ACTIVE where it was
 * read (a GPU's utilisation is 100 % while a single SM is busy), else as `busy`.
 */
export type GpuActivitySignal = 'busy' | 'work';

/**
 * The GPU activity of one device over one window, 0-1; null when nothing measured it: unknown, which
 * a caller must not take for idle. The one reading of a usage window's activity (lifecycle's idle
 * rules, the containers' activity, usage's GPU-hours used).
 */
export function gpuActivityOf(
  window: Pick<GpuUsageWindowData, 'device' | 'grEngineActive' | 'gpuUtilization'> & {
    smActive?: { mean: number } | null;
  },
  options: { measure?: 'mean' | 'max'; signal?: GpuActivitySignal } = {},
): number | null {
  const measure = options.measure ?? 'mean';
  const clamp = (ratio: number) => Math.min(1, Math.max(0, ratio));
  if (options.signal === 'work' && window.smActive) return clamp(window.smActive.mean);
  if (window.grEngineActive) return clamp(window.grEngineActive[measure]);
  const migSlice = window.device.migProfile !== null || window.device.slot.includes('.');
  if (window.gpuUtilization && !migSlice) return clamp(window.gpuUtilization[measure] / 100);
  return null;
}

/** What the usage windows of one window say about one container, for the questions lifecycle asks. */
export interface ContainerWindowActivity {
  containerId: string;
  windowStart: string;
  /** Devices it held or ran a process on in the window. */
  gpuDevices: number;
  /** The highest activity of those devices (0-1), null when none of them had a known activity. */
  gpuActivityMax: number | null;
  /** Devices whose activity is unknown (MIG without dcgm-exporter, the simulated GPUs). */
  gpuUnknownDevices: number;
  /** From its cgroup; null when the cgroup sampler has no window of it. */
  cpuMeanCores: number | null;
  networkBytes: number | null;
}

/**
 * Joins one window's GPU and container windows per container: a GPU window counts for the container
 * that held the device (per the allocation) and for every container that ran a process on it.
 */
export function containerActivityOf(
  gpuWindows: readonly GpuUsageWindowData[],
  containerWindows: readonly ContainerResourceWindowData[],
): ContainerWindowActivity[] {
  const byContainer = new Map<string, ContainerWindowActivity>();
  const entry = (containerId: string, windowStart: string) => {
    let activity = byContainer.get(`${containerId}|${windowStart}`);
    if (!activity) {
      activity = {
        containerId,
        windowStart,
        gpuDevices: 0,
        gpuActivityMax: null,
        gpuUnknownDevices: 0,
        cpuMeanCores: null,
        networkBytes: null,
      };
      byContainer.set(`${containerId}|${windowStart}`, activity);
    }
    return activity;
  };
  for (const window of gpuWindows) {
    const containers = new Set(
      [window.holder.containerId, ...window.processes.map((process) => process.containerId)].filter(
        (id): id is string => id !== null,
      ),
    );
    const activity = gpuActivityOf(window, { measure: 'max' });
    for (const containerId of containers) {
      const joined = entry(containerId, window.windowStart);
      joined.gpuDevices++;
      if (activity === null) joined.gpuUnknownDevices++;
      else joined.gpuActivityMax = Math.max(joined.gpuActivityMax ?? 0, activity);
    }
  }
  for (const window of containerWindows) {
    const joined = entry(window.containerId, window.windowStart);
    joined.cpuMeanCores = window.cpuMeanCores;
    joined.networkBytes =
      window.networkRxBytes === null || window.networkTxBytes === null
        ? null
        : window.networkRxBytes + window.networkTxBytes;
  }
  return [...byContainer.values()].sort(
    (a, b) => a.windowStart.localeCompare(b.windowStart) || a.containerId.localeCompare(b.containerId),
  );
}
