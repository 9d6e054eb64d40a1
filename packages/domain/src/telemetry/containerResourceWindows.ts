import type { EventOf } from '../events/defineEvent.ts';
import type { ContainerResourceWindowRecorded } from './events.ts';
import { DEFAULT_USAGE_WINDOW_MS, type UsageWindowBounds, usageWindowAt } from './usageWindow.ts';

/** One container's cgroup counters at one moment (counters run since the container started). */
export interface ContainerCounters {
  containerId: string;
  user: string | null;
  cpuUsageNs: number;
  memoryCurrentBytes: number;
  memoryLimitBytes: number | null;
  ioReadBytes: number;
  ioWriteBytes: number;
  pids: number;
  /** Network bytes of the container's netns; null when they could not be read. */
  networkRxBytes: number | null;
  networkTxBytes: number | null;
}

export type ContainerResourceWindowData = EventOf<typeof ContainerResourceWindowRecorded>['data'];

interface Previous {
  at: number;
  counters: ContainerCounters;
}

interface ContainerWindow {
  user: string | null;
  samples: number;
  cpuNs: number;
  cpuMaxCores: number;
  /** Time the CPU deltas cover, for the mean. */
  coveredMs: number;
  memoryMaxBytes: number;
  memoryLimitBytes: number | null;
  ioRead: number;
  ioWrite: number;
  pidsMax: number;
  rx: number | null;
  tx: number | null;
}

/**
 * Aggregates cgroup samples into clock-aligned windows per container, in memory (pure: time comes
 * with each sample). Counters become deltas between samples — a delta across a window boundary
 * counts in the window it ends in — so a window's CPU seconds, IO and network bytes are what the
 * container used in it, and a counter that went back (the container restarted: a new cgroup) starts
 * over rather than counting negative. The first sample of a container only sets its baseline.
 */
export class ContainerResourceWindows {
  readonly #host: string;
  readonly #windowMs: number;
  #bounds: UsageWindowBounds | null = null;
  #windows = new Map<string, ContainerWindow>();
  #previous = new Map<string, Previous>();

  constructor(options: { host: string; windowMs?: number }) {
    this.#host = options.host;
    this.#windowMs = options.windowMs ?? DEFAULT_USAGE_WINDOW_MS;
  }

  /** Adds one cycle's readings of every running container; returns the windows a new window closed. */
  add(at: Date, containers: readonly ContainerCounters[]): ContainerResourceWindowData[] {
    const bounds = usageWindowAt(at, this.#windowMs);
    if (this.#bounds && bounds.start < this.#bounds.start) return [];
    const closed = this.#bounds && bounds.start > this.#bounds.start ? this.close() : [];
    this.#bounds ??= bounds;
    const seen = new Set<string>();
    for (const counters of containers) {
      seen.add(counters.containerId);
      this.#addOne(at.getTime(), counters);
    }
    // A container not seen has stopped: its next run starts from a new baseline.
    for (const id of this.#previous.keys()) if (!seen.has(id)) this.#previous.delete(id);
    return closed;
  }

  /** Closes the window being filled (on shutdown: a partial window). */
  close(): ContainerResourceWindowData[] {
    const bounds = this.#bounds;
    if (!bounds) return [];
    const windows = [...this.#windows.entries()].map(([containerId, window]) => ({
      host: this.#host,
      windowStart: bounds.start,
      windowEnd: bounds.end,
      containerId,
      user: window.user,
      samples: window.samples,
      cpuSeconds: window.cpuNs / 1e9,
      cpuMeanCores: window.coveredMs > 0 ? window.cpuNs / 1e6 / window.coveredMs : 0,
      cpuMaxCores: window.cpuMaxCores,
      memoryMaxBytes: window.memoryMaxBytes,
      memoryLimitBytes: window.memoryLimitBytes,
      ioReadBytes: window.ioRead,
      ioWriteBytes: window.ioWrite,
      pidsMax: window.pidsMax,
      networkRxBytes: window.rx,
      networkTxBytes: window.tx,
    }));
    this.#bounds = null;
    this.#windows = new Map();
    return windows.sort((a, b) => a.containerId.localeCompare(b.containerId));
  }

  #addOne(at: number, counters: ContainerCounters): void {
    let window = this.#windows.get(counters.containerId);
    if (!window) {
      window = {
        user: counters.user,
        samples: 0,
        cpuNs: 0,
        cpuMaxCores: 0,
        coveredMs: 0,
        memoryMaxBytes: 0,
        memoryLimitBytes: null,
        ioRead: 0,
        ioWrite: 0,
        pidsMax: 0,
        rx: null,
        tx: null,
      };
      this.#windows.set(counters.containerId, window);
    }
    window.samples++;
    window.user = counters.user ?? window.user;
    window.memoryMaxBytes = Math.max(window.memoryMaxBytes, counters.memoryCurrentBytes);
    window.memoryLimitBytes = counters.memoryLimitBytes;
    window.pidsMax = Math.max(window.pidsMax, counters.pids);
    const previous = this.#previous.get(counters.containerId);
    this.#previous.set(counters.containerId, { at, counters });
    if (!previous || at <= previous.at) return;
    const before = previous.counters;
    const delta = (now: number, then: number) => (now >= then ? now - then : now);
    const cpuNs = delta(counters.cpuUsageNs, before.cpuUsageNs);
    const elapsedMs = at - previous.at;
    window.cpuNs += cpuNs;
    window.coveredMs += elapsedMs;
    window.cpuMaxCores = Math.max(window.cpuMaxCores, cpuNs / 1e6 / elapsedMs);
    window.ioRead += delta(counters.ioReadBytes, before.ioReadBytes);
    window.ioWrite += delta(counters.ioWriteBytes, before.ioWriteBytes);
    if (
      counters.networkRxBytes !== null &&
      counters.networkTxBytes !== null &&
      before.networkRxBytes !== null &&
      before.networkTxBytes !== null
    ) {
      window.rx = (window.rx ?? 0) + delta(counters.networkRxBytes, before.networkRxBytes);
      window.tx = (window.tx ?? 0) + delta(counters.networkTxBytes, before.networkTxBytes);
    }
  }
}
