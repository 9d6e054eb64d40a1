import { allProjections, ProjectionRunner, type ProjectionStatus } from '@ds01/projections';
import { readDaemonLock } from '@ds01/service';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { CommandStoppedError } from '../interruption.ts';
import { ProgressDisplay } from '../output/progress.ts';
import { projectionColumns, projectionRows } from '../projections/projectionRows.ts';

export function register(program: Command, context: CliContext): void {
  const projections = program
    .command('projections')
    .description('the views derived from the log (read models): list them, rebuild them');

  projections
    .command('list')
    .description('every projection with its version, checkpoint, lag and state')
    .option('--json', 'one JSON document')
    .action(async (options: { json?: boolean }) => {
      const rows = await projectionRows(context);
      if (options.json) context.output.json(rows);
      else context.output.table(projectionColumns, rows, '(no projections registered)');
    });

  projections
    .command('rebuild')
    .description('rebuild projections from the start of the log (reset, then replay every event)')
    .argument('[name]', 'the projection to rebuild (see ds01 projections list)')
    .option('--all', 'rebuild every projection')
    .option('--json', 'print the result as one JSON document')
    .addHelpText(
      'after',
      `
A rebuild is one transaction on the projections database: readers see the old read models until
it commits the complete new ones, and a rebuild interrupted (Ctrl-C: exit 130) or killed leaves the
old ones as they were. It holds the database's write lock throughout, so it refuses to run while
ds01d keeps the same data dir's projections: stop ds01d first, or let ds01d do it (bump the
projection's version: ds01d rebuilds changed projections when it starts).

Examples:
  ds01 projections rebuild users
  ds01 projections rebuild --all`,
    )
    .action(async (name: string | undefined, options: { all?: boolean; json?: boolean }) => {
      const known = allProjections.map((p) => p.name);
      if (!name === !options.all) {
        throw new CliError(name ? 'give a projection name or --all, not both' : 'which projection?', {
          hint: `name one (${known.join(', ')}) or give --all`,
        });
      }
      const { paths } = context.config();
      const daemon = readDaemonLock(paths.daemonLock);
      if (daemon) {
        throw new CliError(
          `ds01d (pid ${daemon.pid}) is keeping the projections of ${paths.dataDir} up to date`,
          {
            hint: 'stop ds01d, rebuild, start it again; or bump the projection version and restart ds01d (it rebuilds at start)',
          },
        );
      }
      const runner = new ProjectionRunner({
        store: await context.store(),
        db: context.projectionsDb(),
        projections: allProjections,
      });
      const progress = new ProgressDisplay();
      let results: ProjectionStatus[];
      try {
        results = await runner.rebuild(name ? [name] : 'all', {
          atomic: true,
          signal: context.interruption.claim(),
          onProgress: (report) => progress.update({ label: report.projection, ...report }),
        });
      } catch (error) {
        progress.abandon();
        if (error instanceof CommandStoppedError) {
          process.stderr.write('ds01: rebuild interrupted: the read models are as they were before it\n');
        }
        throw error;
      }
      progress.finish();
      report(context, results, options.json === true);
    });
}

function report(context: CliContext, results: ProjectionStatus[], json: boolean): void {
  const rows = results.map((r) => ({
    projection: r.name,
    version: r.version,
    position: r.position,
    state: r.error ? 'failed' : 'rebuilt',
    error: r.error?.message ?? null,
  }));
  if (json) context.output.json(rows);
  else {
    context.output.table(
      [
        { header: 'projection', value: (r) => r.projection },
        { header: 'version', value: (r) => String(r.version), align: 'right' },
        { header: 'position', value: (r) => String(r.position), align: 'right' },
        { header: 'state', value: (r) => (r.error ? `failed: ${r.error}` : r.state) },
      ],
      rows,
    );
  }
  const failed = results.find((r) => r.error);
  if (failed?.error) throw failed.error;
}
