import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from 'pino';

/** What ds01d says about itself every interval (the `ds01d health` debug line). */
export interface HealthSample {
  rssBytes: number;
  heapUsedBytes: number;
  /** Open file descriptors (/proc/self/fd); null where there is no /proc. */
  openFds: number | null;
  /** How late the event loop ran timers during the interval, in ms. */
  eventLoopLagMs: { p50: number; p99: number; max: number };
}

/**
 * Logs a `ds01d health` line at debug level every `intervalMs`: memory, open descriptors and
 * event-loop lag, so that a soak (bench/soak.ts) or an admin with DS01_LOG_LEVEL=debug can see a
 * leak or a blocked loop without attaching a profiler. Returns the function that stops it.
 */
export function startHealthLog(logger: Logger, intervalMs: number): () => void {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const timer = setInterval(() => {
    logger.debug(sampleHealth(delay), 'ds01d health');
    delay.reset();
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    delay.disable();
  };
}

function sampleHealth(delay: ReturnType<typeof monitorEventLoopDelay>): HealthSample {
  const memory = process.memoryUsage();
  // The histogram counts the sampling timer's own resolution in: subtract it to get the lag.
  const lagMs = (nanos: number) => Math.max(0, Math.round((nanos / 1e6 - 10) * 10) / 10);
  return {
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    openFds: countOpenFds(),
    eventLoopLagMs: {
      p50: lagMs(delay.percentile(50)),
      p99: lagMs(delay.percentile(99)),
      max: lagMs(delay.max),
    },
  };
}

function countOpenFds(): number | null {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return null;
  }
}
