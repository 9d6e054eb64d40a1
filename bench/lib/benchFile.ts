/**
 * What every bench/*.bench.ts exports as default: a name (its section in BENCHMARKS.md) and run(),
 * which measures and returns its results. bench/run.ts finds the files, runs them one after the
 * other and writes the report.
 */
export interface BenchFile {
  /** Title of the file's section in BENCHMARKS.md, e.g. 'Event store (SQLite)'. */
  name: string;
  /** One paragraph: what is measured against what, written above the table. */
  description?: string;
  run(context: BenchContext): Promise<BenchResult[]>;
}

export interface BenchContext {
  /** A folder of the bench's own on a real disk (removed after the run). */
  workDir: string;
  /** Scale down for a quick check (`npm run bench -- --quick`): fewer events and repetitions. */
  quick: boolean;
}

/** One measured thing, e.g. "durable append, 1 event per transaction" done by DS01. */
export interface BenchResult {
  /** What was done. Results with the same name are compared. */
  name: string;
  /** Who did it, e.g. 'ds01' or 'raw node:sqlite'. */
  variant: string;
  eventsPerRepetition: number;
  repetitions: number;
  medianMs: number;
  p99Ms: number;
  /** eventsPerRepetition over the median repetition time. */
  eventsPerSecond: number;
  /** CPU time (user + system) of this process per event, at the median repetition: steadier than
   *  wall time on a busy machine, and blind to time spent waiting for the disk. */
  cpuMicrosPerEvent: number;
  /** Highest process.memoryUsage() seen while this result was measured. */
  peakRssBytes: number;
  peakHeapUsedBytes: number;
  /** The variant (same name) this one is compared with: ratio = this events/s ÷ that events/s. */
  baseline?: string;
  targetEventsPerSecond?: number;
  targetRatio?: number;
}
