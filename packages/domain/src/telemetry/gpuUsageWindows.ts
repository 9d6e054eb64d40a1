import type { EventOf } from '../events/defineEvent.ts';
import type { GpuUsageWindowRecorded, UsageDevice, UsageHolder, UsageProcess } from './events.ts';
import { DEFAULT_USAGE_WINDOW_MS, type UsageWindowBounds, usageWindowAt } from './usageWindow.ts';

/** One device (whole GPU or MIG slot) in one sample. A null reading is unknown, never zero. */
export interface GpuDeviceSample {
  device: UsageDevice;
  /** The device's share of its GPU (1 for a whole GPU, N/7 for an Ng MIG slice): its energy weight. */
  gpuEquivalents: number;
  /** nvidia-smi's utilization.gpu, percent (always null on MIG). */
  gpuUtilization: number | null;
  /** DCGM profiling fields, 0-1. */
  grEngineActive: number | null;
  smActive: number | null;
  dramActive: number | null;
  memoryUsedBytes: number | null;
  /** Power draw of the device (a whole GPU; null on MIG, where nvidia-smi has none per slice). */
  powerWatts: number | null;
  processes: readonly {
    pid: number;
    containerId: string | null;
    user: string | null;
    memoryBytes: number | null;
  }[];
}

/** What one sampling cycle saw on the host's GPUs. */
export interface GpuSampleSet {
  at: Date;
  devices: readonly GpuDeviceSample[];
  /** Each GPU's energy counter (mJ since the driver loaded) by GPU index; absent or null: unknown. */
  energyMillijoulesByGpu: ReadonlyMap<number, number | null>;
}

export type GpuUsageWindowData = EventOf<typeof GpuUsageWindowRecorded>['data'];

/** Who held a device at the end of a window (the allocation projection knows). */
export type HolderOf = (device: UsageDevice) => UsageHolder;

interface Running {
  count: number;
  sum: number;
  max: number;
}

interface DeviceWindow {
  device: UsageDevice;
  gpuEquivalents: number;
  samples: number;
  gpuUtilization: Running;
  grEngineActive: Running;
  smActive: Running;
  dramActive: Running;
  power: Running;
  memoryUsedMaxBytes: number | null;
  processes: Map<number, UsageProcess>;
}

const emptyRunning = (): Running => ({ count: 0, sum: 0, max: 0 });

function add(running: Running, value: number | null): void {
  if (value === null) return;
  running.count++;
  running.sum += value;
  running.max = Math.max(running.max, value);
}

const mean = (running: Running) => (running.count === 0 ? null : running.sum / running.count);
const clamp = (value: number, max: number) => Math.min(max, Math.max(0, value));

/**
 * Aggregates GPU samples into clock-aligned usage windows in memory: a sample whose window is later
 * than the one being filled closes that one, which `add` returns as GpuUsageWindowRecorded data (one
 * per device seen in it). Pure: time comes with each sample, holders from the caller.
 *
 * Energy: each GPU's counter is read at every sample; a window's energy is the counter's rise from the
 * last sample before the window (or its first sample) to its last. MIG slices share their GPU's
 * counter, so each gets a part weighted by its size times its GR engine activity (by size alone when
 * an activity is unknown or every slice was idle). A counter that went back (driver reloaded) is unknown.
 */
export class GpuUsageWindows {
  readonly #host: string;
  readonly #windowMs: number;
  #bounds: UsageWindowBounds | null = null;
  #devices = new Map<string, DeviceWindow>();
  /** Per GPU: the counter at the end of the previous window, and the latest reading in this one. */
  #energyBefore = new Map<number, number>();
  #energyLatest = new Map<number, number>();
  #energyUnknown = new Set<number>();

  constructor(options: { host: string; windowMs?: number }) {
    this.#host = options.host;
    this.#windowMs = options.windowMs ?? DEFAULT_USAGE_WINDOW_MS;
  }

  /** The window being filled, or null before the first sample. */
  get current(): UsageWindowBounds | null {
    return this.#bounds;
  }

  /** Adds a sample; when it starts a new window, returns the windows it closed (else []). */
  add(sample: GpuSampleSet, holderOf: HolderOf): GpuUsageWindowData[] {
    const bounds = usageWindowAt(sample.at, this.#windowMs);
    let closed: GpuUsageWindowData[] = [];
    if (this.#bounds && bounds.start > this.#bounds.start) closed = this.close(holderOf);
    else if (this.#bounds && bounds.start < this.#bounds.start) return []; // the clock went back: dropped
    this.#bounds ??= bounds;
    for (const deviceSample of sample.devices) this.#addDevice(deviceSample);
    for (const [gpuIndex, reading] of sample.energyMillijoulesByGpu) {
      if (reading === null) continue;
      const latest = this.#energyLatest.get(gpuIndex);
      if (latest !== undefined && reading < latest) this.#energyUnknown.add(gpuIndex);
      if (!this.#energyBefore.has(gpuIndex)) this.#energyBefore.set(gpuIndex, reading);
      this.#energyLatest.set(gpuIndex, reading);
    }
    return closed;
  }

  /** Closes the window being filled (on shutdown: a partial window, as many samples as it had). */
  close(holderOf: HolderOf): GpuUsageWindowData[] {
    const bounds = this.#bounds;
    if (!bounds) return [];
    const devices = [...this.#devices.values()];
    const energy = this.#energyOfDevices(devices);
    const windows = devices.map((window) => this.#windowOf(window, bounds, holderOf, energy));
    this.#bounds = null;
    this.#devices = new Map();
    for (const [gpuIndex, latest] of this.#energyLatest) this.#energyBefore.set(gpuIndex, latest);
    this.#energyUnknown = new Set();
    return windows;
  }

  #addDevice(sample: GpuDeviceSample): void {
    const key = `${sample.device.slot}|${sample.device.uuid}`;
    let window = this.#devices.get(key);
    if (!window) {
      window = {
        device: sample.device,
        gpuEquivalents: sample.gpuEquivalents,
        samples: 0,
        gpuUtilization: emptyRunning(),
        grEngineActive: emptyRunning(),
        smActive: emptyRunning(),
        dramActive: emptyRunning(),
        power: emptyRunning(),
        memoryUsedMaxBytes: null,
        processes: new Map(),
      };
      this.#devices.set(key, window);
    }
    window.samples++;
    add(window.gpuUtilization, sample.gpuUtilization === null ? null : clamp(sample.gpuUtilization, 100));
    add(window.grEngineActive, sample.grEngineActive === null ? null : clamp(sample.grEngineActive, 1));
    add(window.smActive, sample.smActive === null ? null : clamp(sample.smActive, 1));
    add(window.dramActive, sample.dramActive === null ? null : clamp(sample.dramActive, 1));
    add(window.power, sample.powerWatts);
    if (sample.memoryUsedBytes !== null)
      window.memoryUsedMaxBytes = Math.max(window.memoryUsedMaxBytes ?? 0, sample.memoryUsedBytes);
    for (const process of sample.processes) {
      const seen = window.processes.get(process.pid);
      const memory =
        seen?.memoryMaxBytes == null
          ? process.memoryBytes
          : Math.max(seen.memoryMaxBytes, process.memoryBytes ?? 0);
      window.processes.set(process.pid, {
        pid: process.pid,
        containerId: process.containerId ?? seen?.containerId ?? null,
        user: process.user ?? seen?.user ?? null,
        memoryMaxBytes: memory,
      });
    }
  }

  /** Joules per device key, apportioned among the devices of each GPU. */
  #energyOfDevices(devices: readonly DeviceWindow[]): Map<DeviceWindow, number | null> {
    const result = new Map<DeviceWindow, number | null>();
    const byGpu = Map.groupBy(devices, (window) => window.device.gpuIndex);
    for (const [gpuIndex, windows] of byGpu) {
      const before = this.#energyBefore.get(gpuIndex);
      const latest = this.#energyLatest.get(gpuIndex);
      const joules =
        before === undefined || latest === undefined || this.#energyUnknown.has(gpuIndex)
          ? null
          : (latest - before) / 1000;
      const activityKnown = windows.every((window) => window.grEngineActive.count > 0);
      const weights = windows.map(
        (window) => window.gpuEquivalents * (activityKnown ? (mean(window.grEngineActive) ?? 0) : 1),
      );
      const total = weights.reduce((a, b) => a + b, 0);
      const shares =
        total > 0
          ? weights.map((weight) => weight / total)
          : windows.map((window) => window.gpuEquivalents / sumOf(windows.map((w) => w.gpuEquivalents)));
      windows.forEach((window, i) => {
        result.set(window, joules === null ? null : joules * shares[i]!);
      });
    }
    return result;
  }

  #windowOf(
    window: DeviceWindow,
    bounds: UsageWindowBounds,
    holderOf: HolderOf,
    energy: Map<DeviceWindow, number | null>,
  ): GpuUsageWindowData {
    const known = (running: Running) =>
      running.count === 0 ? null : { mean: running.sum / running.count, max: running.max };
    const smActive = mean(window.smActive);
    const dramActive = mean(window.dramActive);
    return {
      host: this.#host,
      windowStart: bounds.start,
      windowEnd: bounds.end,
      device: window.device,
      holder: holderOf(window.device),
      samples: window.samples,
      gpuUtilization: known(window.gpuUtilization),
      grEngineActive: known(window.grEngineActive),
      smActive: smActive === null ? null : { mean: smActive },
      dramActive: dramActive === null ? null : { mean: dramActive },
      memoryUsedMaxBytes: window.memoryUsedMaxBytes,
      powerMeanWatts: mean(window.power),
      energyJoules: energy.get(window) ?? null,
      processes: [...window.processes.values()].sort((a, b) => a.pid - b.pid),
    };
  }
}

function sumOf(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) || 1;
}
