import {
  parsePeriod,
  type ReadModel,
  type UsageGrouping,
  UsagePeriodError,
  usageReport,
  usageTotal,
} from '@ds01/projections';

const GROUPINGS: readonly UsageGrouping[] = ['user', 'group', 'day', 'week', 'month'];

export interface UsageApiContext {
  readModel: ReadModel;
  intensity: readonly { from: string; gPerKwh: number }[];
  now: Date;
}

/**
 * The usage history as JSON, for Grafana's JSON datasources (Infinity: a URL, rows in `rows`) and
 * any script: history older than Prometheus keeps comes from here.
 *   GET /api/v1/usage?period=1y&by=month[&user=alice][&group=student]
 *   → { period, by, rows: [{ key, gpuHoursAllocated, gpuHoursUsed, efficiency, ... }], total }
 * The exporter listens on 127.0.0.1 by default: this is the admin's view; an ordinary user gets
 * their own rows through the gateway, which calls usageReport with their name.
 */
export function handleUsageApi(url: URL, context: UsageApiContext): { status: number; body: unknown } {
  if (url.pathname !== '/api/v1/usage')
    return { status: 404, body: { error: `no ${url.pathname}; try /api/v1/usage` } };
  const by = (url.searchParams.get('by') ?? 'user') as UsageGrouping;
  if (!GROUPINGS.includes(by)) {
    return { status: 400, body: { error: `by=${by} is not one of ${GROUPINGS.join(', ')}` } };
  }
  let period: ReturnType<typeof parsePeriod>;
  try {
    period = parsePeriod(url.searchParams.get('period') ?? '30d', context.now);
  } catch (error) {
    if (error instanceof UsagePeriodError)
      return { status: 400, body: { error: error.message, hint: error.hint } };
    throw error;
  }
  const rows = usageReport(context.readModel, {
    ...period,
    user: url.searchParams.get('user') ?? undefined,
    group: url.searchParams.get('group') ?? undefined,
    by,
    intensity: context.intensity,
    now: context.now,
  });
  return { status: 200, body: { period, by, rows, total: usageTotal(rows) } };
}
