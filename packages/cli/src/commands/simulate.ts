import { readDaemonLock } from '@ds01/service';
import { appendSimulation } from '@ds01/simulation';
import { type Command, Option } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { ProgressDisplay } from '../output/progress.ts';
import { nonNegativeInteger, positiveInteger, utcDay } from './parse.ts';

const DAY_MS = 86_400_000;

export function register(program: Command, context: CliContext): void {
  program
    .command('simulate')
    .description(
      'append a synthetic history of a lab (for a first look at the analytics and dashboards, and for benchmarks)',
    )
    .addOption(new Option('--users <n>', 'people in the lab').default(200).argParser(positiveInteger))
    .addOption(
      new Option('--days <n>', 'days of history, ending with --until')
        .default(365)
        .argParser(positiveInteger),
    )
    .addOption(
      new Option('--until <day>', 'the last day of the history, YYYY-MM-DD (default: today, UTC)').argParser(
        utcDay,
      ),
    )
    .addOption(
      new Option('--seed <n>', 'the same seed and --until give the same history')
        .default(1)
        .argParser(nonNegativeInteger),
    )
    .option(
      '--into-existing-log',
      'append even though the log already holds events (never on a lab’s real log)',
    )
    .option('--json', 'the summary as one JSON document')
    .addHelpText(
      'after',
      `
The history: 4 A100s split into 28 MIG slices (1g.10gb), the users registered over two weeks and
coming to the lab by the semester's rhythm (terms from mid-February and September, a rush before
their end, quiet breaks and weekends); training runs that keep a slice busy, notebooks mostly idle,
containers forgotten until they are retired for idleness, requests denied when every slice is held,
students who leave at the end of a term. A usage window for every slice every 5 minutes: a year
is about 3 million events, appended in a few minutes. Stop ds01d first; start it after, and the
views (ds01 usage, ds01 audit, the dashboards) fill up.

Examples:
  ds01 --data-dir /tmp/lab simulate                   a year of 200 users
  ds01 --data-dir /tmp/lab simulate --users 30 --days 30 --seed 7
  ds01 --data-dir /tmp/lab simulate --users 10 --days 3 --until 2026-11-18   the same on any day
  ds01 --data-dir /tmp/lab usage --period 1y --by month`,
    )
    .action(
      async (options: {
        users: number;
        days: number;
        seed: number;
        until?: number;
        intoExistingLog?: boolean;
        json?: boolean;
      }) => {
        const { paths, host } = context.config();
        if (readDaemonLock(paths.daemonLock)) {
          throw new CliError('ds01d is running on this data dir', {
            hint: 'stop it first, or give another --data-dir',
          });
        }
        const store = await context.store({ write: true, create: true });
        if (!options.intoExistingLog && (await store.countEvents()) > 0) {
          throw new CliError(
            `the log at ${store.info.location} already holds events: a simulated history would mix with them`,
            {
              hint: 'give an empty --data-dir (ds01 --data-dir /tmp/lab simulate), or --into-existing-log if that is what you want',
            },
          );
        }
        const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
        if (options.until !== undefined && options.until > today) {
          throw new CliError(
            `--until ${new Date(options.until).toISOString().slice(0, 10)} is after today: a history cannot end in the future`,
            { hint: 'leave out --until to end today, or give a day up to today' },
          );
        }
        // With --until the same seed gives the same history on any day it is run.
        const lastDay = options.until ?? today;
        const start = new Date(lastDay - (options.days - 1) * DAY_MS);
        const progress = new ProgressDisplay();
        const days = options.days;
        const { events } = await appendSimulation(
          store,
          { users: options.users, days, seed: options.seed, start, host },
          ({ events: done, day }) =>
            progress.update({
              label: 'simulate',
              done: Math.round((Date.parse(day) - start.getTime()) / DAY_MS),
              total: days,
              applied: done,
            }),
        );
        progress.finish();
        const summary = { events, users: options.users, days, from: start.toISOString().slice(0, 10), host };
        if (options.json) context.output.json(summary);
        else
          context.output.line(
            `appended ${events.toLocaleString('en-US')} events: ${days} days of ${options.users} users on ${host}, from ${summary.from}`,
          );
      },
    );
}
