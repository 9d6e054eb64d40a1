import type { SQLInputValue } from 'node:sqlite';
import { z } from 'zod';
import type { ReadModel } from '../runner/readModel.ts';
import { splitByDay } from './usageProjection.ts';

/** A grid's CO2 intensity from a day on (until the next range's day). */
export interface GridIntensity {
  from: string;
  gPerKwh: number;
}

export interface UsageQuery {
  /** First UTC day included (YYYY-MM-DD); null: since the first event. */
  fromDay: string | null;
  /** Last UTC day included. */
  toDay: string;
  user?: string | undefined;
  group?: string | undefined;
  by: UsageGrouping;
  intensity: readonly GridIntensity[];
  /** Allocations still open count up to this moment. */
  now: Date;
}

/** One line of a usage report; the key is the user, group, day, week (its Monday) or month. */
export const UsageRow = z.object({
  key: z.string(),
  gpuHoursAllocated: z.number(),
  gpuHoursUsed: z.number(),
  /** Used / allocated; null when nothing was allocated. */
  efficiency: z.number().nullable(),
  /** GPU-hours held while idle (activity below 5 %). */
  wasteGpuHours: z.number(),
  /** GPU-hours held with no activity reading (never counted as idle). */
  unknownGpuHours: z.number(),
  energyKwh: z.number(),
  co2Kg: z.number(),
  containers: z.number(),
  grants: z.number(),
  denials: z.number(),
});
export type UsageRow = z.infer<typeof UsageRow>;

export const UsageGroupingSchema = z.enum(['user', 'group', 'day', 'week', 'month']);
export type UsageGrouping = z.infer<typeof UsageGroupingSchema>;

/**
 * A usage report as one document: what `ds01 usage --json` prints and `GET /ds01/v1/usage` answers,
 * so that the admin's path (the read model) and an ordinary user's (the gateway) print alike.
 */
export const UsageAnswer = z.object({
  period: z.object({ fromDay: z.string().nullable(), toDay: z.string() }),
  by: UsageGroupingSchema,
  user: z.string().nullable(),
  group: z.string().nullable(),
  rows: z.array(UsageRow),
  total: UsageRow,
});
export type UsageAnswer = z.infer<typeof UsageAnswer>;

const SumRow = z.object({
  key: z.string(),
  allocated_gpu_s: z.number(),
  used_gpu_s: z.number(),
  idle_gpu_s: z.number(),
  unknown_gpu_s: z.number(),
  energy_j: z.number(),
  co2_g: z.number(),
  containers: z.number(),
  grants: z.number(),
  denials: z.number(),
});

const OpenAllocation = z.object({
  user: z.string(),
  grp: z.string(),
  gpu_eq: z.number(),
  since_ms: z.number(),
});

const KEY: Record<UsageGrouping, string> = {
  user: 'user',
  group: 'grp',
  day: 'day',
  // The Monday on or before the day (ISO weeks start on Monday).
  week: "date(day, '-6 days', 'weekday 1')",
  month: 'substr(day, 1, 7)',
};

/**
 * Usage over a period, grouped: sums of the daily rows (one SQL aggregate), plus the allocations
 * still open, counted up to `now`. What an admin sees for everyone, and (filtered to the caller)
 * what the gateway serves an ordinary user.
 */
export function usageReport(readModel: ReadModel, query: UsageQuery): UsageRow[] {
  const key = KEY[query.by];
  const params: SQLInputValue[] = [query.fromDay, query.toDay, query.user ?? null, query.group ?? null];
  const rows = readModel.query(
    SumRow,
    `SELECT ${key} AS key, sum(allocated_gpu_s) AS allocated_gpu_s, sum(used_gpu_s) AS used_gpu_s,
            sum(idle_gpu_s) AS idle_gpu_s, sum(unknown_gpu_s) AS unknown_gpu_s, sum(energy_j) AS energy_j,
            sum(energy_j * (${intensityCase(query.intensity)})) AS co2_g,
            sum(containers) AS containers, sum(grants) AS grants, sum(denials) AS denials
       FROM usage_daily
      WHERE (?1 IS NULL OR day >= ?1) AND day <= ?2 AND (?3 IS NULL OR user = ?3) AND (?4 IS NULL OR grp = ?4)
      GROUP BY 1 ORDER BY 1`,
    ...params,
  );
  const sums = new Map(rows.map((r) => [r.key, r]));
  for (const open of openContributions(readModel, query)) {
    const row = sums.get(open.key) ?? emptySum(open.key);
    row.allocated_gpu_s += open.gpuSeconds;
    sums.set(open.key, row);
  }
  return [...sums.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map(toUsageRow);
}

/** The whole period as one row (the report's total line). */
export function usageTotal(rows: readonly UsageRow[]): UsageRow {
  const total = toUsageRow(emptySum('total'));
  const summed = [
    'gpuHoursAllocated',
    'gpuHoursUsed',
    'wasteGpuHours',
    'unknownGpuHours',
    'energyKwh',
    'co2Kg',
    'containers',
    'grants',
    'denials',
  ] as const;
  for (const row of rows) for (const field of summed) total[field] += row[field];
  total.efficiency = efficiency(total.gpuHoursUsed, total.gpuHoursAllocated);
  return total;
}

/** The first day with usage (for `--period all`), or null when there is none. */
export function firstUsageDay(readModel: ReadModel): string | null {
  const [row] = readModel.query(
    z.object({ day: z.string().nullable() }),
    'SELECT min(day) AS day FROM usage_daily',
  );
  return row?.day ?? null;
}

/** Open allocations' GPU-seconds inside the period, by the report's key. */
function openContributions(readModel: ReadModel, query: UsageQuery): { key: string; gpuSeconds: number }[] {
  const open = readModel.query(
    OpenAllocation,
    `SELECT o.user, coalesce(g.grp, '') AS grp, o.gpu_eq, o.since_ms
       FROM usage_open_allocations o LEFT JOIN usage_user_groups g ON g.user = o.user
      WHERE (?1 IS NULL OR o.user = ?1) AND (?2 IS NULL OR coalesce(g.grp, '') = ?2)`,
    query.user ?? null,
    query.group ?? null,
  );
  const periodStart =
    query.fromDay === null ? Number.NEGATIVE_INFINITY : Date.parse(`${query.fromDay}T00:00:00Z`);
  const periodEnd = Date.parse(`${query.toDay}T00:00:00Z`) + 86_400_000;
  const until = Math.min(periodEnd, query.now.getTime());
  const parts: { key: string; gpuSeconds: number }[] = [];
  for (const o of open) {
    for (const part of splitByDay(Math.max(o.since_ms, periodStart), until)) {
      parts.push({ key: keyOf(query.by, part.day, o), gpuSeconds: part.seconds * o.gpu_eq });
    }
  }
  return parts;
}

function keyOf(by: UsageGrouping, day: string, o: { user: string; grp: string }): string {
  switch (by) {
    case 'user':
      return o.user;
    case 'group':
      return o.grp;
    case 'day':
      return day;
    case 'month':
      return day.slice(0, 7);
    case 'week': {
      const d = new Date(`${day}T00:00:00Z`);
      d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
      return d.toISOString().slice(0, 10);
    }
  }
}

/**
 * The grid intensity of a day as an SQL expression of the column `day`: a CASE over the ranges,
 * latest first. Built from validated numbers and YYYY-MM-DD days only (config), never user text.
 */
function intensityCase(ranges: readonly GridIntensity[]): string {
  if (ranges.length === 0) return '0';
  const checked = ranges.map((r) => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(r.from) || !Number.isFinite(r.gPerKwh)) {
      throw new Error(`grid intensity range ${JSON.stringify(r)} is not a day and a number`);
    }
    return r;
  });
  const latestFirst = [...checked].sort((a, b) => (a.from < b.from ? 1 : -1));
  const joulesToKwh = 1 / 3.6e6;
  const whens = latestFirst.map((r) => `WHEN day >= '${r.from}' THEN ${r.gPerKwh * joulesToKwh}`);
  return `CASE ${whens.join(' ')} ELSE 0 END`;
}

function emptySum(key: string): z.infer<typeof SumRow> {
  return {
    key,
    allocated_gpu_s: 0,
    used_gpu_s: 0,
    idle_gpu_s: 0,
    unknown_gpu_s: 0,
    energy_j: 0,
    co2_g: 0,
    containers: 0,
    grants: 0,
    denials: 0,
  };
}

function toUsageRow(r: z.infer<typeof SumRow>): UsageRow {
  const allocated = r.allocated_gpu_s / 3600;
  const used = r.used_gpu_s / 3600;
  return {
    key: r.key,
    gpuHoursAllocated: allocated,
    gpuHoursUsed: used,
    efficiency: efficiency(used, allocated),
    wasteGpuHours: r.idle_gpu_s / 3600,
    unknownGpuHours: r.unknown_gpu_s / 3600,
    energyKwh: r.energy_j / 3.6e6,
    co2Kg: r.co2_g / 1000,
    containers: r.containers,
    grants: r.grants,
    denials: r.denials,
  };
}

function efficiency(used: number, allocated: number): number | null {
  return allocated > 0 ? used / allocated : null;
}

/** The report of a query as one document (the period, what it was narrowed to, its rows and total). */
export function usageAnswer(readModel: ReadModel, query: UsageQuery): UsageAnswer {
  const rows = usageReport(readModel, query);
  return {
    period: { fromDay: query.fromDay, toDay: query.toDay },
    by: query.by,
    user: query.user ?? null,
    group: query.group ?? null,
    rows,
    total: usageTotal(rows),
  };
}

/** Who asks for a usage report: an admin sees everyone's, anyone else only their own. */
export interface UsageCaller {
  user: string;
  admin: boolean;
}

/**
 * The query a caller may run: an ordinary user's is narrowed to their own rows whatever they asked
 * (the gateway calls this with the identity of the socket). Their grouping stands: by user it is one
 * row, theirs; by group, the group(s) their own rows were charged under.
 */
export function scopeToCaller(caller: UsageCaller, query: UsageQuery): UsageQuery {
  if (caller.admin) return query;
  return { ...query, user: caller.user };
}
