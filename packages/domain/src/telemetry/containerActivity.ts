import type { ContainerResourceWindowData } from './containerResourceWindows.ts';
import type { GpuUsageWindowData } from './gpuUsageWindows.ts';

/**
 * The GPU activity of one device over one window, 0-1: DCGM's GR_ENGINE_ACTIVE where it was read,
 * else nvidia-smi's utilisation of a whole GPU (never on a MIG slice, where it does not exist); null
 * when neither was: unknown, which a caller must not take for idle.
 */
export function gpuActivityOf(window: GpuUsageWindowData, measure: 'mean' | 'max' = 'mean'): number | null {
  if (window.grEngineActive) return window.grEngineActive[measure];
  if (window.gpuUtilization && window.device.migProfile === null) return window.gpuUtilization[measure] / 100;
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
    const activity = gpuActivityOf(window, 'max');
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
