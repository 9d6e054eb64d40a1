import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { replaceStoreFile, StoreUnavailableError } from '@ds01/event-store';
import { readDaemonLock } from '@ds01/service';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { embeddedStorePath } from './embeddedStore.ts';
import { verifyWithProgress } from './verifyCommand.ts';

export function registerRestore(store: Command, context: CliContext): void {
  store
    .command('restore')
    .description('replace the event log by a backup (ds01d stopped); the old log is kept aside')
    .argument('<src>', 'a backup written by `ds01 store backup`')
    .option('--json', 'print what was done as one JSON document')
    .addHelpText(
      'after',
      `
Steps, each only if the one before succeeded:
  1. refuses while a ds01d runs on the data dir (stop it: systemctl stop ds01d)
  2. verifies SRC in full, as \`ds01 store verify --file SRC\` does: a damaged backup replaces nothing
  3. copies SRC beside the store, checks the copy, and renames it into place (atomic)
  4. keeps the old store as events.db.before-restore-<time> (its -wal folded in or moved with it)
  5. removes projections.db: ds01d rebuilds every read model from the restored log when it starts

Example:
  systemctl stop ds01d
  ds01 store restore /var/backups/ds01/events-2026-12-03.db
  systemctl start ds01d`,
    )
    .action(async (src: string, options: { json?: boolean }) => {
      const target = embeddedStorePath(context, 'restore');
      const { paths } = context.config();
      const daemon = readDaemonLock(paths.daemonLock);
      if (daemon) {
        throw new CliError(`ds01d (pid ${daemon.pid}) is running on ${paths.dataDir}: nothing was restored`, {
          hint: 'stop it first (systemctl stop ds01d, or kill the pid), restore, then start it again',
        });
      }
      if (!statSync(src, { throwIfNoEntry: false })?.isFile()) {
        throw new CliError(`backup ${src} does not exist (or is not a file): nothing was restored`, {
          hint: 'give the path of a file written by `ds01 store backup` (for example ls /var/backups/ds01/)',
        });
      }
      if (resolve(src) === resolve(target)) {
        throw new CliError(`${src} is the store itself: nothing to restore`);
      }
      const verification = await verifyOrRefuse(src);
      mkdirSync(dirname(target), { recursive: true, mode: 0o750 });
      const { restored, keptAs } = replaceStoreFile(src, target, new Date());
      if (restored.events !== verification.events || restored.head !== verification.head) {
        throw new CliError(
          `${src} changed while it was restored (verified ${verification.events} events, copied ${restored.events})`,
          {
            hint: `the copy is in place, the old store kept as ${keptAs}; restore again from a backup nothing writes to`,
          },
        );
      }
      const projectionsRemoved = removeProjections(paths.projectionsDb);
      const result = {
        restoredFrom: resolve(src),
        store: target,
        events: restored.events,
        headPosition: restored.head,
        previousStoreKeptAs: keptAs ?? null,
        projectionsRemoved,
      };
      if (options.json) {
        context.output.json(result);
        return;
      }
      context.output.fields([
        ['restored', `${target} from ${result.restoredFrom}`],
        ['events', restored.events.toLocaleString('en-US')],
        ['head position', String(restored.head)],
        ['old store kept as', keptAs ?? '(there was none)'],
        [
          'projections',
          projectionsRemoved
            ? `${paths.projectionsDb} removed: ds01d rebuilds the read models from the restored log when it starts`
            : 'none yet: ds01d builds them from the restored log when it starts',
        ],
      ]);
    });
}

/** The backup's full verification; any finding, or a file that is no DS01 store, replaces nothing. */
async function verifyOrRefuse(src: string) {
  let verification: Awaited<ReturnType<typeof verifyWithProgress>>;
  try {
    verification = await verifyWithProgress(src);
  } catch (error) {
    if (!(error instanceof StoreUnavailableError)) throw error;
    // The store's own advice ("restore it from a backup") is beside the point here: keep the reason.
    const reason = error.message.slice(`event store ${error.location}: `.length).split(/; |: (?=[a-z])/)[0];
    throw new CliError(`cannot restore from ${src}: it ${reason}; nothing was replaced`, {
      hint: 'give a file written by `ds01 store backup`; check one with `ds01 store verify --file FILE`',
      cause: error,
    });
  }
  const { findings } = verification;
  if (findings.length > 0) {
    const first = findings[0]!;
    const where = [first.position === null ? '' : `position ${first.position}`, first.streamId ?? '']
      .filter(Boolean)
      .join(', ');
    throw new CliError(
      `cannot restore from ${src}: it is damaged (${findings.length} finding${findings.length === 1 ? '' : 's'}, first: ${first.kind}${where ? ` at ${where}` : ''}: ${first.problem}); nothing was replaced`,
      { hint: `see every finding with \`ds01 store verify --file ${src}\`, or restore an older backup` },
    );
  }
  return verification;
}

/** Removes the read models (and their WAL): they were built from the log that is gone. */
function removeProjections(path: string): boolean {
  const existed = existsSync(path);
  for (const suffix of ['-wal', '-shm', '']) rmSync(`${path}${suffix}`, { force: true });
  return existed;
}
