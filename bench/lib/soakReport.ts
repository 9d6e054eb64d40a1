// The soak's verdict and table (bench/soak.ts): pure, from the samples taken of ds01d.

/** One look at ds01d: from /proc/<pid> (RSS, descriptors) and its last `ds01d health` line (lag). */
export interface SoakSample {
  label: string;
  /** Seconds since ds01d said "ready", at the end of the sample's window. */
  atSeconds: number;
  /** How long its readings were taken over. */
  windowSeconds: number;
  rssBytes: number;
  /** The fewest and most open descriptors over the sample's readings (one may be in flight). */
  openFds: { min: number; max: number };
  /** The event-loop lag of ds01d's last health interval, ms; undefined before its first line. */
  lagMs?: { p50: number; p99: number; max: number };
  /** Events on the log at that moment. */
  events?: number;
}

export interface SoakCounts {
  allocations: number;
  denials: number;
  releases: number;
  containers: number;
  /** CLI or docker commands that failed (not a denial): each is a finding. */
  errors: number;
}

export interface SoakVerdict {
  ok: boolean;
  /** End-of-churn over after-warm-up RSS (medians of their windows), minus 1 (0.05 is 5% growth). */
  rssGrowth: number;
  fdGrowth: number;
  findings: string[];
}

/** RSS may grow by less than this after warm-up; descriptors may not grow at all. */
export const RSS_GROWTH_LIMIT = 0.1;

/**
 * `warm`: the window after warm-up; `end`: the last window of the churn (RSS is compared between
 * them); `stopped`: ds01d idle after the churn (its descriptors against those after warm-up).
 */
export function soakVerdict(
  { warm, end, stopped }: { warm: SoakSample; end: SoakSample; stopped: SoakSample },
  counts: SoakCounts,
): SoakVerdict {
  const rssGrowth = end.rssBytes / warm.rssBytes - 1;
  // A descriptor open for a request in flight comes and goes; one that leaks stays: the end's fewest
  // must not exceed the most seen after warm-up.
  const fdGrowth = stopped.openFds.min - warm.openFds.max;
  const findings: string[] = [];
  if (rssGrowth >= RSS_GROWTH_LIMIT) {
    findings.push(
      `RSS grew ${(rssGrowth * 100).toFixed(1)}% after warm-up (${mib(warm.rssBytes)} → ${mib(end.rssBytes)}; limit < ${RSS_GROWTH_LIMIT * 100}%)`,
    );
  }
  if (fdGrowth > 0) {
    findings.push(`open descriptors grew after warm-up: ${fds(warm.openFds)} → ${fds(stopped.openFds)}`);
  }
  if (counts.errors > 0) findings.push(`${counts.errors} command(s) of the churn failed (see above)`);
  if (counts.allocations === 0 || counts.containers === 0) {
    findings.push('the churn did nothing (no allocation or no container): the soak proves nothing');
  }
  return { ok: findings.length === 0, rssGrowth, fdGrowth, findings };
}

/** A Markdown table, as BENCHMARKS.md has them (readable on a terminal too). */
export function soakTable(samples: readonly SoakSample[]): string {
  const rows = samples.map((s) =>
    [
      s.label,
      `${Math.round(s.atSeconds - s.windowSeconds)}–${Math.round(s.atSeconds)} s`,
      mib(s.rssBytes),
      fds(s.openFds),
      s.lagMs ? `${s.lagMs.p50} / ${s.lagMs.p99} / ${s.lagMs.max} ms` : '—',
      s.events === undefined ? '—' : s.events.toLocaleString('en-US'),
    ].join(' | '),
  );
  return [
    '| Moment | After ready | RSS (median) | Open fds | Event-loop lag p50 / p99 / max | Events on the log |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((row) => `| ${row} |`),
  ].join('\n');
}

function fds({ min, max }: SoakSample['openFds']): string {
  return min === max ? String(min) : `${min}–${max}`;
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
