import { analyticsConfigOf, intensityRanges } from '@ds01/config';
import {
  parsePeriod,
  UsageAnswer,
  type UsageGrouping,
  UsagePeriodError,
  type UsageRow,
  usageAnswer,
  usageProjection,
} from '@ds01/projections';
import { type Command, Option } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import type { Column } from '../output/table.ts';
import { freshReadModel } from '../projections/freshView.ts';

interface UsageOptions {
  user?: string;
  group?: string;
  period: string;
  by: UsageGrouping;
  format: 'table' | 'json' | 'csv';
  json?: boolean;
}

export function register(program: Command, context: CliContext): void {
  program
    .command('usage')
    .description('GPU-hours allocated and used, efficiency, waste, energy and CO2, by user, group or time')
    .option('--user <name>', 'only this user')
    .option('--group <group>', 'only this group (as in resource-limits.yaml)')
    .option('--period <period>', '7d, 30d, 1y, all, or FROM..TO (UTC days, both included)', '30d')
    .addOption(
      new Option('--by <key>', 'one line per')
        .choices(['user', 'group', 'day', 'week', 'month'])
        .default('user'),
    )
    .addOption(
      new Option('--format <format>', 'how to print it').choices(['table', 'json', 'csv']).default('table'),
    )
    .option('--json', 'same as --format json')
    .addHelpText(
      'after',
      `
What the columns mean:
  allocated   GPU-hours held (a MIG slice counts its share: 3g.40gb = 3/7 of a GPU)
  used        GPU-hours weighted by activity (SM active where DCGM gives it, else GR engine
              active, else GPU utilisation): a GPU held at 25 % for 4 h is 1 GPU-hour used
  eff         used / allocated
  waste       GPU-hours held while the GPU was idle (activity under 5 %)
  energy/CO2  the held GPUs' energy, and its CO2 at analytics.grid_intensity_g_per_kwh (ds01.yaml)
  denied      GPU requests refused (quota, no free slot, ...)
A user '(unattributed)' holds the energy of GPUs nobody held. Weeks start on Monday (UTC).
A container counts for its verified owner (created through their gateway socket), else its claim.
Run by an ordinary user whose DOCKER_HOST (or DS01_SOCKET) is their DS01 socket, it asks the gateway
and shows their own usage only (--user or --group naming anyone else is refused).

Examples:
  ds01 usage                                  everyone, the last 30 days
  ds01 usage --period 1y --by month           the lab's year, month by month
  ds01 usage --user alice --period 7d --by day
  ds01 usage --group student --period 2026-01-01..2026-06-30 --format csv > spring.csv`,
    )
    .action(async (options: UsageOptions) => {
      const now = new Date();
      // Read here on both paths: a period that cannot be read gets the same --period error.
      const period = periodOf(options.period, now);
      const api = context.gatewayApi();
      const answer = api
        ? await api.get(UsageAnswer, `/ds01/v1/usage?${apiQuery(options)}`)
        : usageAnswer(await freshReadModel(context, [usageProjection]), {
            ...period,
            user: options.user,
            group: options.group,
            by: options.by,
            intensity: intensityRanges(analyticsConfigOf(context.config().yaml)),
            now,
          });
      print(context, options.json ? 'json' : options.format, answer);
    });
}

/** The gateway's query: the options as given (it narrows and refuses for the socket's user). */
function apiQuery(options: UsageOptions): string {
  const query = new URLSearchParams({ period: options.period, by: options.by });
  if (options.user !== undefined) query.set('user', options.user);
  if (options.group !== undefined) query.set('group', options.group);
  return query.toString();
}

/** One renderer for both paths: the admin's read model and an ordinary user's gateway answer. */
function print(context: CliContext, format: UsageOptions['format'], answer: UsageAnswer): void {
  const { period, by, rows, total } = answer;
  if (format === 'json') {
    context.output.json(answer);
  } else if (format === 'csv') {
    for (const line of csv(by, rows)) context.output.line(line);
  } else {
    const span = `${period.fromDay ?? 'the beginning'} to ${period.toDay}`;
    context.output.line(`Usage from ${span} (UTC), by ${by}`);
    context.output.table(
      columns(by),
      rows.length ? [...rows, total] : [],
      '(no usage recorded in this period)',
    );
  }
}

function periodOf(text: string, now: Date) {
  try {
    return parsePeriod(text, now);
  } catch (error) {
    if (error instanceof UsagePeriodError) throw new CliError(`--${error.message}`, { hint: error.hint });
    throw error;
  }
}

function keyText(row: UsageRow): string {
  return row.key === '' ? '(unattributed)' : row.key;
}

const fixed = (digits: number) => (n: number) => n.toFixed(digits);
const hours = fixed(1);

function columns(by: UsageGrouping): Column<UsageRow>[] {
  return [
    { header: by, value: keyText },
    { header: 'allocated', value: (r) => hours(r.gpuHoursAllocated), align: 'right' },
    { header: 'used', value: (r) => hours(r.gpuHoursUsed), align: 'right' },
    {
      header: 'eff',
      value: (r) => (r.efficiency === null ? '-' : `${Math.round(r.efficiency * 100)}%`),
      align: 'right',
    },
    { header: 'waste', value: (r) => hours(r.wasteGpuHours), align: 'right' },
    { header: 'kWh', value: (r) => fixed(2)(r.energyKwh), align: 'right' },
    { header: 'CO2 kg', value: (r) => fixed(2)(r.co2Kg), align: 'right' },
    { header: 'containers', value: (r) => String(r.containers), align: 'right' },
    { header: 'grants', value: (r) => String(r.grants), align: 'right' },
    { header: 'denied', value: (r) => String(r.denials), align: 'right' },
  ];
}

const CSV_FIELDS = [
  'gpuHoursAllocated',
  'gpuHoursUsed',
  'efficiency',
  'wasteGpuHours',
  'unknownGpuHours',
  'energyKwh',
  'co2Kg',
  'containers',
  'grants',
  'denials',
] as const;

/** RFC 4180: a header, one line per row; a field with a comma, quote or newline is quoted. */
function csv(by: UsageGrouping, rows: readonly UsageRow[]): string[] {
  const quote = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  return [
    [by, ...CSV_FIELDS].join(','),
    ...rows.map((r) =>
      [quote(r.key), ...CSV_FIELDS.map((f) => (r[f] === null ? '' : String(r[f])))].join(','),
    ),
  ];
}
