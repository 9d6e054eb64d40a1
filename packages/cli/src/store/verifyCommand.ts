import { existsSync } from 'node:fs';
import { eventCatalog } from '@ds01/domain';
import {
  checkpointFindings,
  type StoreFinding,
  type StoreVerification,
  verifyStoreFile,
} from '@ds01/event-store';
import type { Checkpoint } from '@ds01/projections';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { ProgressDisplay } from '../output/progress.ts';
import type { Column } from '../output/table.ts';
import { embeddedStorePath } from './embeddedStore.ts';

const findingColumns: readonly Column<StoreFinding>[] = [
  { header: 'kind', value: (f) => f.kind },
  { header: 'position', value: (f) => (f.position === null ? '-' : String(f.position)), align: 'right' },
  { header: 'stream', value: (f) => f.streamId ?? '-', shrink: true },
  { header: 'problem', value: (f) => f.problem },
];

export function registerVerify(store: Command, context: CliContext): void {
  store
    .command('verify')
    .description('check the event log end to end (and the projections against it); exit 1 on any finding')
    .option('--file <path>', 'check this store file (a backup) instead of the data dir’s')
    .option('--json', 'one JSON document: the counts and every finding')
    .addHelpText(
      'after',
      `
Beyond SQLite's own integrity check, every event is read in log order:
  position-gap      global positions run 1, 2, 3 ... with no hole (an event deleted or lost)
  revision-gap      each stream's revisions run 0, 1, 2 ... in position order
  schema            the data parses against its catalog schema, after upcasting older versions
  metadata          the metadata is valid and names the row's own event id
  checkpoint-ahead  no projection claims to have read past the log's head (data dir only)
Reads only; safe while ds01d runs. Exit code 0: clean; 1: findings (restore a backup that verifies).

Examples:
  ds01 store verify
  ds01 store verify --file /var/backups/ds01/events-2026-12-03.db --json`,
    )
    .action(async (options: { file?: string; json?: boolean }) => {
      const path = options.file ?? embeddedStorePath(context, 'verify');
      // Checkpoints first: the log's snapshot then starts later, so a live ds01d cannot look ahead.
      const checkpoints = options.file ? undefined : readCheckpointsOf(context);
      const result = await verifyWithProgress(path);
      const projections = checkpoints && checkpointsAgainst(checkpoints, result.head);
      const findings = [...result.findings, ...(projections?.findings ?? [])];
      const summary = summaryLine(result, findings, projections);
      if (options.json) {
        context.output.json({
          path,
          events: result.events,
          headPosition: result.head,
          projectionsChecked: projections?.checked ?? null,
          findings,
          ok: findings.length === 0,
        });
      } else {
        if (findings.length > 0) {
          context.output.table(findingColumns, findings);
          context.output.line();
        }
        context.output.line(summary);
      }
      if (findings.length > 0) {
        throw new CliError(
          `${path}: ${findings.length} finding${findings.length === 1 ? '' : 's'} in the log`,
          {
            hint: 'restore the newest backup that verifies clean (`ds01 store verify --file BACKUP`, then `ds01 store restore BACKUP`)',
          },
        );
      }
    });
}

/** From this many events on, verifying takes long enough to show progress. */
const LARGE_LOG = 20_000;

/** Verifies, with a progress bar on a large log (a line every few seconds when stderr is no terminal). */
export async function verifyWithProgress(path: string): Promise<StoreVerification> {
  let progress: ProgressDisplay | undefined;
  try {
    return await verifyStoreFile(path, eventCatalog, {
      onProgress: (done, total, checked) => {
        if (total < LARGE_LOG) return;
        progress ??= new ProgressDisplay();
        progress.update({ label: 'verify', done, total, applied: checked });
      },
    });
  } finally {
    progress?.finish();
  }
}

type CheckpointsRead = { checkpoints: Checkpoint[] } | { skipped: string };
type CheckpointsChecked =
  | { checked: number; findings: StoreFinding[] }
  | { checked: 0; findings: []; skipped: string };

function readCheckpointsOf(context: CliContext): CheckpointsRead {
  if (!existsSync(context.config().paths.projectionsDb)) return { skipped: 'no projections.db yet' };
  try {
    return { checkpoints: [...context.readModel().checkpoints().values()] };
  } catch (error) {
    return { skipped: (error as Error).message };
  }
}

function checkpointsAgainst(read: CheckpointsRead, head: number): CheckpointsChecked {
  if ('skipped' in read) return { checked: 0, findings: [], skipped: read.skipped };
  return { checked: read.checkpoints.length, findings: checkpointFindings(read.checkpoints, head) };
}

function summaryLine(
  result: StoreVerification,
  findings: readonly StoreFinding[],
  projections: CheckpointsChecked | undefined,
): string {
  const counts = `${result.events.toLocaleString('en-US')} events, head ${result.head}`;
  const projectionNote =
    projections === undefined
      ? ''
      : 'skipped' in projections
        ? `; projections not checked (${projections.skipped})`
        : `; ${projections.checked} projection checkpoints within the head`;
  if (findings.length === 0) {
    return `ok: ${counts}: positions without holes, streams contiguous, every event and its metadata valid${projectionNote}`;
  }
  return `${findings.length} finding${findings.length === 1 ? '' : 's'} in ${result.path} (${counts})${projectionNote}`;
}
