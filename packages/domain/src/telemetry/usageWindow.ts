/** Default length of a usage window (ds01.yaml `telemetry.window_s`). */
export const DEFAULT_USAGE_WINDOW_MS = 5 * 60_000;

export interface UsageWindowBounds {
  /** ISO instants, UTC. */
  start: string;
  end: string;
}

/**
 * The clock-aligned window an instant falls in (12:03:10 → 12:00:00–12:05:00 for 5 min), so the
 * windows of every sampler and host line up. Windows are aligned to the Unix epoch, so any length that
 * divides a day gives the same boundaries every day.
 */
export function usageWindowAt(now: Date, windowMs: number = DEFAULT_USAGE_WINDOW_MS): UsageWindowBounds {
  if (!Number.isInteger(windowMs) || windowMs <= 0)
    throw new Error(`usage window must be a positive whole number of ms, got ${windowMs}`);
  const start = Math.floor(now.getTime() / windowMs) * windowMs;
  return { start: new Date(start).toISOString(), end: new Date(start + windowMs).toISOString() };
}
