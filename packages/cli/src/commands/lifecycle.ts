import { userInfo } from 'node:os';
import {
  type LifecycleCommand,
  LifecycleRule,
  lifecycleStream,
  type PendingRetirement,
  RetirementAction,
} from '@ds01/domain';
import type { RecordedEvent } from '@ds01/event-store';
import { decideLifecycle, LifecycleReadModel, type RowReader } from '@ds01/lifecycle';
import { type LifecycleRow, lifecycleProjection, ProjectionRunner } from '@ds01/projections';
import { readDaemonLock } from '@ds01/service';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { requireAdmin } from '../admin.ts';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { summarizeData } from '../output/summary.ts';
import type { Column } from '../output/table.ts';
import { relativeTime } from '../output/time.ts';
import { duration, parseMoment } from './parse.ts';

interface ListOptions {
  user?: string;
  all?: boolean;
  json?: boolean;
}

export function register(program: Command, context: CliContext): void {
  const lifecycle = program
    .command('lifecycle')
    .description(
      'upcoming retirements (idle, max runtime, departed owner ...) and why; admins extend or exempt',
    )
    .addHelpText(
      'after',
      `
A container is retired (stopped, or removed) when a rule of resource-limits.yaml says so: idle for
its idle timeout (no GPU activity, CPU and network under the group's thresholds, counted after the
start grace), its max runtime, its owner left the lab, it was created and never started, or it was
stopped for longer than container_hold_after_stop_h. The owner is warned before (ds01.yaml
lifecycle.warnings_m). Touching /workspace/.keep-alive in a container holds off idle retirement
(for keepalive_max_duration_h).

Examples:
  ds01 lifecycle                                 what will be retired, soonest first
  ds01 lifecycle --user alice --json
  ds01 lifecycle extend my-notebook --for 4h --reason "deadline Friday"
  ds01 lifecycle exempt my-notebook --from idle --reason "long data load"
  ds01 lifecycle history my-notebook             every decision about it`,
    );
  lifecycle
    .command('list', { isDefault: true })
    .description('containers with a retirement coming (the default: `ds01 lifecycle` lists)')
    .option('--user <name>', "only this user's containers")
    .option('-a, --all', 'every container DS01 knows, with or without a retirement coming')
    .option('--json', 'the rows as one JSON array')
    .action(async (options: ListOptions) => {
      const view = await freshLifecycleView(context);
      const rows = options.all
        ? view.live().filter((r) => !options.user || r.user === options.user)
        : view.pending(options.user);
      if (options.json) {
        context.output.json(rows.map(jsonRow));
        return;
      }
      const empty = options.user
        ? `(no retirement coming for ${options.user}'s containers)`
        : '(no retirement coming; --all lists every container)';
      context.output.table(listColumns(), rows, empty);
    });

  lifecycle
    .command('history')
    .description('every lifecycle decision about one container, and what came of it')
    .argument('<container>', 'container id (or its first characters) or name')
    .option('--json', 'the events as one JSON array')
    .action(async (ref: string, options: { json?: boolean }) => {
      const row = findContainer(await freshLifecycleView(context), ref);
      const store = await context.store();
      const events: RecordedEvent[] = [];
      for await (const event of store.readStream(lifecycleStream(row.container_id))) events.push(event);
      if (options.json) {
        context.output.json(events);
        return;
      }
      context.output.table(historyColumns, events, `(no lifecycle decision about ${row.name} yet)`);
    });

  lifecycle
    .command('extend')
    .description('(admin) no idle or max-runtime retirement of a container before a time')
    .argument('<container>', 'container id (or its first characters) or name')
    .option('--for <duration>', 'from now: 90m, 4h, 2d', duration)
    .option('--until <moment>', 'an ISO time, or a local "2026-03-06 18:00"')
    .requiredOption('--reason <text>', 'why (recorded, and shown to the owner)')
    .action(async (ref: string, options: { for?: number; until?: string; reason: string }) => {
      requireAdmin('lifecycle extend', adminHint('extend'));
      const now = new Date();
      if ((options.for === undefined) === (options.until === undefined)) {
        throw new CliError('give one of --for or --until', { hint: 'e.g. --for 4h' });
      }
      const until = options.until ? parseMoment(options.until, now) : new Date(now.getTime() + options.for!);
      const row = await decide(context, ref, {
        type: 'ExtendLifecycle',
        now,
        until,
        by: actorName(),
        reason: options.reason,
      });
      context.output.line(`${row.name}: no idle or max-runtime retirement before ${until.toISOString()}`);
    });

  lifecycle
    .command('exempt')
    .description('(admin) exempt a container from idle or max-runtime retirement')
    .argument('<container>', 'container id (or its first characters) or name')
    .addOption(
      new Option('--from <rules...>', 'the rules it is exempt from')
        .choices(LifecycleRule.options)
        .default(['idle', 'max_runtime']),
    )
    .option('--until <moment>', 'until when (default: for good)')
    .requiredOption('--reason <text>', 'why (recorded)')
    .action(async (ref: string, options: { from: LifecycleRule[]; until?: string; reason: string }) => {
      requireAdmin('lifecycle exempt', adminHint('exempt'));
      const now = new Date();
      const until = options.until ? parseMoment(options.until, now) : null;
      const command = {
        type: 'ExemptContainer' as const,
        now,
        from: options.from,
        until,
        by: actorName(),
        reason: options.reason,
      };
      const row = await decide(context, ref, command);
      context.output.line(
        `${row.name}: exempt from ${options.from.join(' and ')} ${until ? `until ${until.toISOString()}` : 'for good'}`,
      );
    });

  lifecycle
    .command('retire')
    .description('(admin) retire a container: its owner is warned first, then it is stopped')
    .argument('<container>', 'container id (or its first characters) or name')
    .option('--in <duration>', 'when, from now (default: after the shortest warning)', duration)
    .addOption(
      new Option('--action <action>', 'what is done').choices(RetirementAction.options).default('stop'),
    )
    .requiredOption('--reason <text>', 'why (recorded, and shown to the owner)')
    .action(async (ref: string, options: { in?: number; action: RetirementAction; reason: string }) => {
      requireAdmin('lifecycle retire', adminHint('retire'));
      const now = new Date();
      const lifecycleConfig = context.config().yaml.lifecycle;
      const warnings = lifecycleConfig?.warnings_m ?? [60, 15];
      const command = {
        type: 'RetireContainer' as const,
        now,
        at: new Date(now.getTime() + (options.in ?? 0)),
        action: options.action,
        graceSeconds: lifecycleConfig?.stop_grace_s ?? 60,
        warningLeadMinutes: warnings,
        by: actorName(),
        reason: options.reason,
      };
      const row = await decide(context, ref, command);
      const pending = row.state.pending;
      context.output.line(
        `${row.name}: to be retired (${options.action.replaceAll('_', ' ')}) ${pending ? `at ${pending.at}` : ''}`,
      );
    });
}

/** What an ordinary user refused an admin's lifecycle command can do instead. */
const adminHint = (command: string) =>
  `ask an admin of this machine (sudo ds01 lifecycle ${command} ...); \`ds01 lifecycle\` shows what is coming for your containers and why`;

/** The person running the command (the CLI has no other identity yet; the gateway will give one). */
const actorName = () => userInfo().username;

/** A RowReader over the CLI's read-only read model. */
function readerOf(context: CliContext): RowReader {
  const model = context.readModel();
  return { rows: (sql, ...params) => model.query(z.unknown(), sql, ...params) };
}

/** The lifecycle read model, brought up to the log's head first when no ds01d keeps it. */
async function freshLifecycleView(context: CliContext): Promise<LifecycleReadModel> {
  if (!readDaemonLock(context.config().paths.daemonLock)) {
    const runner = new ProjectionRunner({
      store: await context.store(),
      db: context.projectionsDb(),
      projections: [lifecycleProjection],
    });
    runner.prepare();
    await runner.catchUp({ only: [lifecycleProjection.name] });
  }
  return new LifecycleReadModel(readerOf(context));
}

async function decide(context: CliContext, ref: string, command: LifecycleCommand): Promise<LifecycleRow> {
  const view = await freshLifecycleView(context);
  const row = findContainer(view, ref);
  const store = await context.store({ write: true });
  const result = await decideLifecycle(store, view, row.container_id, command, {
    actor: { kind: 'user', name: actorName() },
    host: context.config().host,
  });
  return { ...row, state: result.state };
}

function findContainer(view: LifecycleReadModel, ref: string): LifecycleRow {
  const matches = view.find(ref);
  const live = matches.filter((r) => r.status !== 'removed');
  const candidates = live.length > 0 ? live : matches;
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length === 0) {
    throw new CliError(`no container '${ref}' in DS01's lifecycle records`, {
      hint: 'give a name or an id from `ds01 lifecycle --all` (or `ds01 containers --all`)',
    });
  }
  throw new CliError(`'${ref}' matches ${candidates.length} containers`, {
    hint: `give the id of one: ${candidates.map((r) => `${r.container_id.slice(0, 12)} (${r.name})`).join(', ')}`,
  });
}

function nextStep(p: PendingRetirement | null): string {
  if (!p) return '-';
  if (p.gaveUp) return 'FAILED (see history)';
  if (p.executing) return `in progress (attempt ${p.executing.attempt})`;
  return `${p.action.replaceAll('_', ' ')}`;
}

function listColumns(now = new Date()): Column<LifecycleRow>[] {
  return [
    { header: 'container', value: (r) => r.container_id.slice(0, 12) },
    { header: 'name', value: (r) => r.name, shrink: true },
    { header: 'owner', value: (r) => r.user ?? 'unknown' },
    { header: 'state', value: (r) => r.status },
    { header: 'idle since', value: (r) => (r.idle_since ? relativeTime(r.idle_since, now) : '-') },
    { header: 'when', value: (r) => (r.pending_at ? relativeTime(r.pending_at, now) : '-') },
    { header: 'reason', value: (r) => r.pending_reason ?? '-' },
    { header: 'then', value: (r) => nextStep(r.state.pending) },
    {
      header: 'warned',
      value: (r) =>
        r.state.pending?.warnedLeads.length
          ? r.state.pending.warnedLeads.map((m) => `${m}m`).join(', ')
          : '-',
    },
    { header: 'why', value: (r) => r.state.pending?.detail ?? '-', shrink: true },
  ];
}

/** What --json gives per container: the decision and why, without the usage internals. */
function jsonRow(row: LifecycleRow) {
  const { state } = row;
  return {
    containerId: row.container_id,
    name: row.name,
    user: row.user,
    status: row.status,
    type: state.type,
    idleSince: state.idleRecordedSince,
    retirement: state.pending,
    lastRetirement: state.lastRetirement,
    extendedUntil: state.extendedUntil,
    exemptions: state.exemptions,
  };
}

const historyColumns: Column<RecordedEvent>[] = [
  { header: 'time', value: (e) => e.metadata.occurredAt },
  { header: 'event', value: (e) => e.type },
  { header: 'by', value: (e) => e.metadata.actor.name },
  { header: 'details', value: (e) => summarizeData(withoutIds(e.data)), shrink: true },
];

function withoutIds(data: unknown): unknown {
  if (!data || typeof data !== 'object') return data;
  const { containerId: _c, retirementId: _r, ...rest } = data as Record<string, unknown>;
  return rest;
}
