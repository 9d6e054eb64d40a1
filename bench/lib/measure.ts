import type { BenchResult } from './benchFile.ts';

export interface MeasureSpec {
  name: string;
  variant: string;
  /** Events one repetition handles: what events/s is computed from. */
  eventsPerRepetition: number;
  /** Untimed runs first (JIT, caches, file growth). */
  warmup: number;
  repetitions: number;
  /** Untimed preparation before each run (warm-up runs included). */
  before?: () => void | Promise<void>;
  /** The timed work. */
  run: () => void | Promise<void>;
  baseline?: string;
  targetEventsPerSecond?: number;
  targetRatio?: number;
}

/**
 * Times `run` over several repetitions after a warm-up and summarises: median and p99 of the
 * repetition times, events per second at the median, and the peak of process.memoryUsage().
 */
export async function measure(spec: MeasureSpec): Promise<BenchResult> {
  const [result] = await measureInterleaved([spec]);
  return result!;
}

/**
 * Measures several variants of the same work with their repetitions interleaved (a, b, a, b...),
 * so that a busy neighbour or a slow disk minute weighs on each alike and their ratio holds even
 * where the absolute numbers wander.
 */
export async function measureInterleaved(specs: readonly MeasureSpec[]): Promise<BenchResult[]> {
  const memory = specs.map(() => new PeakMemory());
  const times: number[][] = specs.map(() => []);
  const cpuTimes: number[][] = specs.map(() => []);
  const rounds = Math.max(...specs.map((spec) => spec.warmup + spec.repetitions));
  for (let round = 0; round < rounds; round++) {
    for (const [i, spec] of specs.entries()) {
      if (round >= spec.warmup + spec.repetitions) continue;
      await spec.before?.();
      memory[i]!.sample();
      const cpuStart = process.cpuUsage();
      const start = performance.now();
      await spec.run();
      const elapsed = performance.now() - start;
      const cpu = process.cpuUsage(cpuStart);
      memory[i]!.sample();
      if (round >= spec.warmup) {
        times[i]!.push(elapsed);
        cpuTimes[i]!.push((cpu.user + cpu.system) / 1000);
      }
    }
  }
  return specs.map((spec, i) => summarise(spec, times[i]!, cpuTimes[i]!, memory[i]!));
}

function summarise(spec: MeasureSpec, times: number[], cpuTimes: number[], memory: PeakMemory): BenchResult {
  const medianMs = percentile(times, 50);
  const { baseline, targetEventsPerSecond, targetRatio } = spec;
  return {
    name: spec.name,
    variant: spec.variant,
    eventsPerRepetition: spec.eventsPerRepetition,
    repetitions: spec.repetitions,
    medianMs,
    p99Ms: percentile(times, 99),
    eventsPerSecond: spec.eventsPerRepetition / (medianMs / 1000),
    cpuMicrosPerEvent: (percentile(cpuTimes, 50) * 1000) / spec.eventsPerRepetition,
    peakRssBytes: memory.rss,
    peakHeapUsedBytes: memory.heapUsed,
    ...(baseline === undefined ? {} : { baseline }),
    ...(targetEventsPerSecond === undefined ? {} : { targetEventsPerSecond }),
    ...(targetRatio === undefined ? {} : { targetRatio }),
  };
}

/** Nearest-rank percentile (p in 0..100) of a non-empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

class PeakMemory {
  rss = 0;
  heapUsed = 0;
  sample(): void {
    const usage = process.memoryUsage();
    this.rss = Math.max(this.rss, usage.rss);
    this.heapUsed = Math.max(this.heapUsed, usage.heapUsed);
  }
}
