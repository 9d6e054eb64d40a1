import { statSync } from 'node:fs';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { formatBytes } from '../output/time.ts';
import { type ProjectionRow, projectionColumns, projectionRows } from '../projections/projectionRows.ts';
import { registerBackup } from '../store/backupCommand.ts';
import { registerRestore } from '../store/restoreCommand.ts';
import { registerVerify } from '../store/verifyCommand.ts';

export function register(program: Command, context: CliContext): void {
  const store = program
    .command('store')
    .description('the event log itself: how big, how far the views are; backup, restore, verify');
  store
    .command('stats')
    .description('size and head of the event log, and how far behind each projection is')
    .option('--json', 'one JSON document')
    .addHelpText(
      'after',
      `
A projection is "behind" while ds01d has not applied the newest events yet (lag = events to go);
"rebuild pending" when its code changed: ds01d rebuilds it at its next start.`,
    )
    .action(async (options: { json?: boolean }) => {
      const config = context.config();
      const eventStore = await context.store();
      const stats = {
        store: {
          kind: eventStore.info.kind,
          location: eventStore.info.location,
          events: await eventStore.countEvents(),
          headPosition: await eventStore.headPosition(),
          fileBytes: eventStore.info.kind === 'sqlite' ? fileBytes(eventStore.info.location) : null,
        },
        dataDir: config.paths.dataDir,
        projections: await projectionRows(context),
      };
      if (options.json) {
        context.output.json(stats);
        return;
      }
      const { output } = context;
      output.fields([
        ['store', `${stats.store.kind} ${stats.store.location}`],
        ['events', stats.store.events.toLocaleString('en-US')],
        ['head position', String(stats.store.headPosition)],
        ...(stats.store.fileBytes === null
          ? []
          : ([['size on disk', formatBytes(stats.store.fileBytes)]] as [string, string][])),
        ['data dir', stats.dataDir],
      ]);
      output.line();
      output.table<ProjectionRow>(projectionColumns, stats.projections, '(no projections registered)');
    });
  registerBackup(store, context);
  registerRestore(store, context);
  registerVerify(store, context);
}

/** The store file plus its write-ahead log (which holds the newest events until a checkpoint). */
function fileBytes(path: string): number {
  let total = 0;
  for (const file of [path, `${path}-wal`]) {
    try {
      total += statSync(file).size;
    } catch {
      // No WAL file right now: nothing to add.
    }
  }
  return total;
}
