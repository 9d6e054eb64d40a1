import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { copyStoreFile } from '@ds01/event-store';
import type { Command } from 'commander';
import { positiveInteger } from '../commands/parse.ts';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { formatBytes } from '../output/time.ts';
import { isDs01Store, pruneBackups } from './backupRetention.ts';
import { embeddedStorePath } from './embeddedStore.ts';

export function registerBackup(store: Command, context: CliContext): void {
  store
    .command('backup')
    .description('copy the event log to a file, consistently, while ds01d runs')
    .argument('<dest>', 'the backup file to write (or a folder: events-<time>.db is written in it)')
    .option(
      '--keep <days>',
      'then remove backups older than this many days from the same folder',
      positiveInteger,
    )
    .option('--json', 'print what was written as one JSON document')
    .addHelpText(
      'after',
      `
The copy is one consistent snapshot of the log (ds01d goes on appending meanwhile). It is written
under a temporary name in DEST's folder, checked (SQLite's integrity check, event count and head),
made mode 0640 and renamed into place: DEST is never half a backup. Restore it with
\`ds01 store restore DEST\`; check it any time with \`ds01 store verify --file DEST\`.

--keep removes older backups from DEST's folder: files named like DEST up to its first digit, with
the same extension, that are DS01 stores (events-2026-12-01.db for DEST events-2026-12-03.db).

Only for the embedded SQLite store: PostgreSQL and EventStoreDB have their own backup tools.

Examples:
  ds01 store backup /var/backups/ds01/events-$(date +%F).db --keep 14
  ds01 store backup /var/backups/ds01/ --json`,
    )
    .action((dest: string, options: { keep?: number; json?: boolean }) => {
      const source = embeddedStorePath(context, 'backup');
      const keepDays = options.keep;
      const now = new Date();
      const destination = backupPath(dest, now);
      if (resolve(destination) === resolve(source)) {
        throw new CliError(`${destination} is the store itself`, {
          hint: 'give a path outside the data dir',
        });
      }
      if (statSync(destination, { throwIfNoEntry: false })?.isFile() && !isDs01Store(destination)) {
        throw new CliError(`${destination} exists and is not a DS01 store: it was left as it is`, {
          hint: 'give a new file name, or a folder (a time-named backup is written in it)',
        });
      }
      const written = copyStoreFile(source, destination);
      const pruned = keepDays === undefined ? [] : pruneBackups(destination, keepDays, now);
      const result = {
        backup: {
          path: written.path,
          events: written.events,
          headPosition: written.head,
          bytes: written.bytes,
        },
        source,
        pruned,
      };
      if (options.json) {
        context.output.json(result);
        return;
      }
      context.output.fields([
        ['backup', written.path],
        ['events', written.events.toLocaleString('en-US')],
        ['head position', String(written.head)],
        ['size', formatBytes(written.bytes)],
        ['checked', 'integrity ok, events and head counted in the copy'],
        ...(keepDays === undefined
          ? []
          : ([
              ['pruned', pruned.length === 0 ? `nothing older than ${keepDays} days` : pruned.join(', ')],
            ] as [string, string][])),
      ]);
    });
}

/**
 * DEST itself, or a time-named file in it when DEST is a folder: one that exists, or one written with
 * a trailing slash (created, 0750: the nightly timer's first run finds no folder yet).
 */
function backupPath(dest: string, now: Date): string {
  if (dest.endsWith('/')) mkdirSync(dest, { recursive: true, mode: 0o750 });
  if (!statSync(dest, { throwIfNoEntry: false })?.isDirectory()) return dest;
  return join(dest, `events-${now.toISOString().slice(0, 19).replace(/:/g, '-')}Z.db`);
}
