import { userInfo } from 'node:os';
import { eventCatalog } from '@ds01/domain';
import {
  type AuditRow,
  auditProjection,
  auditTrail,
  containersProjection,
  ReadModelUnavailableError,
  sealAuditChain,
  verifyAuditChain,
} from '@ds01/projections';
import { type Command, Option } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import type { Column } from '../output/table.ts';
import { freshReadModel } from '../projections/freshView.ts';
import { collect, parseMoment, positiveInteger } from './parse.ts';

/** Exit code of `ds01 audit verify` when the log does not match its chain (1 is any other error). */
const TAMPERED_EXIT_CODE = 4;

interface AuditOptions {
  user?: string;
  container?: string;
  slot?: string;
  since?: string;
  until?: string;
  type?: string[];
  limit: number;
  json?: boolean;
}

export function register(program: Command, context: CliContext): void {
  const audit = program
    .command('audit')
    .description(
      'the audit trail: who asked, what was decided and why; and proof that the log was not changed',
    )
    .option('--user <name>', 'only what concerns this user')
    .option('--container <id|name>', 'only this container (its id, the first characters of it, or its name)')
    .option('--slot <slot>', 'only this GPU slot (e.g. 2 or 1.3)')
    .option('--since <time>', 'from this moment (ISO time, "2026-03-02 14:30", "3d ago")')
    .option('--until <time>', 'up to this moment')
    .option('--type <type>', 'only this event type (repeatable or comma-separated)', collect)
    .addOption(
      new Option('-n, --limit <n>', 'at most this many lines: the last ones')
        .default(1000)
        .argParser(positiveInteger),
    )
    .option('--json', 'one JSON document')
    .addHelpText(
      'after',
      `
Each line is one event of the log: when, what happened (and to whom), who asked (a person, or a
DS01 service), and why it was so (the denial's reason, the rule that found a container's owner, why
a GPU was released). Usage windows are left out (ds01 usage sums them).

Examples:
  ds01 audit --user alice --since "7d ago"
  ds01 audit --slot 1.3 --since 2026-03-01 --until 2026-03-02
  ds01 audit --type GpuAllocationDenied --json
  ds01 audit verify                 check the whole log against its hash chain and seals
  ds01 gpu who --at "2026-03-02 14:30"   who held which GPU at that moment`,
    )
    .action(async (options: AuditOptions) => {
      const now = new Date();
      const types = checkTypes(options.type ?? []);
      const readModel = await freshReadModel(context, [auditProjection, containersProjection]);
      const rows = auditTrail(readModel, {
        user: options.user,
        container: options.container,
        slot: options.slot,
        since: options.since ? parseMoment(options.since, now) : undefined,
        until: options.until ? parseMoment(options.until, now) : undefined,
        types,
        limit: options.limit,
      });
      if (options.json) {
        context.output.json({ rows });
        return;
      }
      context.output.table(columns, rows, '(nothing in the audit trail matches)');
    });

  audit
    .command('verify')
    .description('recompute the hash chain over the whole log: name the first event that no longer matches')
    .option('--json', 'one JSON document')
    .addHelpText(
      'after',
      `
Every event's hash is recorded when DS01 first reads it, and ds01d seals the chain every hour
(AuditSealed events). verify reads the whole log again: an event changed, removed or slipped in
afterwards is named (exit code ${TAMPERED_EXIT_CODE}); if the views were rebuilt since, the seals
still tell between which positions the log changed. A log that matches exits 0.`,
    )
    .action(async (own: { json?: boolean }, command: Command) => {
      const options = withParentJson(own, command);
      const store = await context.store();
      const readModel = recordedHashes(context);
      const report = await verifyAuditChain(store, readModel);
      if (options.json) context.output.json(report);
      else {
        context.output.fields([
          ['events read', String(report.events)],
          ['compared with their recorded hashes', String(report.compared)],
          ['seals checked', String(report.sealsChecked)],
          [
            'last seal',
            report.lastSeal ? `up to position ${report.lastSeal.upTo} (${report.lastSeal.at})` : 'none yet',
          ],
        ]);
      }
      if (report.finding) {
        throw new CliError(`the log was changed: ${report.finding.detail}`, {
          exitCode: TAMPERED_EXIT_CODE,
          hint: 'restore the log from a backup (ds01 store restore) and compare; `ds01 events tail --since POSITION-1 -n 1` shows what is there now',
        });
      }
      if (!options.json) context.output.line('the log matches its hash chain');
    });

  audit
    .command('seal')
    .description('seal the hash chain now (ds01d does it every hour)')
    .option('--json', 'one JSON document')
    .action(async (own: { json?: boolean }, command: Command) => {
      const options = withParentJson(own, command);
      const readModel = await freshReadModel(context, [auditProjection]);
      const sealed = await sealAuditChain({
        store: await context.store({ write: true }),
        readModel,
        host: context.config().host,
        actor: { kind: 'user', name: userInfo().username },
        now: new Date(),
      });
      if (options.json) context.output.json({ sealed: sealed?.data ?? null });
      else if (sealed)
        context.output.line(
          `sealed the log up to position ${sealed.data.upTo} (${sealed.data.events} events)`,
        );
      else context.output.line('nothing new to seal since the last seal');
    });
}

/** `ds01 audit verify --json`: commander gives --json to `audit`, which declares it too. */
function withParentJson(own: { json?: boolean }, command: Command): { json?: boolean } {
  return { json: own.json ?? (command.parent?.opts() as { json?: boolean } | undefined)?.json };
}

/** The hashes the audit projection recorded; none (seals only) when it never ran here. */
function recordedHashes(context: CliContext) {
  try {
    const readModel = context.readModel();
    return readModel.checkpoint(auditProjection.name) ? readModel : null;
  } catch (error) {
    if (error instanceof ReadModelUnavailableError) return null;
    throw error;
  }
}

function checkTypes(types: string[]): string[] {
  for (const type of types) {
    if (!eventCatalog.types.includes(type)) {
      throw new CliError(`'${type}' is not an event type`, {
        hint: `event types: ${eventCatalog.types.join(', ')}`,
      });
    }
  }
  return types;
}

const columns: readonly Column<AuditRow>[] = [
  { header: 'time', value: (r) => r.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z') },
  { header: 'what happened', value: (r) => r.summary, shrink: true },
  { header: 'asked by', value: (r) => r.actor },
  { header: 'why', value: (r) => r.why ?? '', shrink: true },
];
