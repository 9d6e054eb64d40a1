/**
 * What usage windows say about a container's activity, kept small whatever the thresholds: the
 * thresholds belong to the owner's group and may change, so the state keeps, per measure, the
 * "staircase" of windows that no later window equals or exceeds (each entry: a window's end and
 * its measure; null = unknown, which counts as active at any threshold). The last time a container
 * was active under a threshold θ is then the latest entry with a measure ≥ θ. A container's windows
 * mostly repeat a few levels, so a staircase stays a handful of entries long; it is capped anyway.
 */
export interface Step {
  /** End of the window (ISO). */
  end: string;
  /** The window's measure; null = unknown (never idle). */
  value: number | null;
}

export type Staircase = readonly Step[];

const MAX_STEPS = 48;

const atLeast = (a: number | null, b: number | null) => a === null || (b !== null && a >= b);

/** The staircase with one more window: entries the new one equals or exceeds, earlier in time, go. */
export function addStep(stairs: Staircase, step: Step): Staircase {
  if (stairs.some((s) => s.end >= step.end && atLeast(s.value, step.value))) return stairs;
  const kept = stairs.filter((s) => !(s.end <= step.end && atLeast(step.value, s.value)));
  const next = [...kept, step].sort((a, b) => (a.end < b.end ? -1 : a.end > b.end ? 1 : 0));
  return next.length > MAX_STEPS ? next.slice(next.length - MAX_STEPS) : next;
}

/** End of the latest window whose measure reached the threshold (or was unknown); null: none. */
export function lastActiveEnd(stairs: Staircase, threshold: number): string | null {
  for (let i = stairs.length - 1; i >= 0; i--) {
    const step = stairs[i]!;
    if (step.value === null || step.value >= threshold) return step.end;
  }
  return null;
}

/** A stretch of time covered by windows with no gap: idleness is only known where windows are. */
export interface Coverage {
  from: string;
  until: string;
}

/** One window more: it extends the coverage when it touches it, else (after a gap) starts anew. */
export function cover(coverage: Coverage | null, start: string, end: string): Coverage {
  if (!coverage || Date.parse(start) > Date.parse(coverage.until) + 1000) {
    if (coverage && end <= coverage.until) return coverage;
    return { from: start, until: end };
  }
  return {
    from: start < coverage.from ? start : coverage.from,
    until: end > coverage.until ? end : coverage.until,
  };
}

/** Where both are covered (a container with GPUs is idle only where its GPU windows say so too). */
export function intersect(a: Coverage | null, b: Coverage | null): Coverage | null {
  if (!a || !b) return null;
  const from = [a.from, b.from].sort()[1]!;
  const until = [a.until, b.until].sort()[0]!;
  return from < until ? { from, until } : null;
}
