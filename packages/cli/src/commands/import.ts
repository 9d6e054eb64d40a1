import { createReadStream } from 'node:fs';
import { userInfo } from 'node:os';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { importedFacts, parseDs01InfraLine } from '@ds01/domain';
import { type EventStore, eventIdFor, type NewEvent } from '@ds01/event-store';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';

/** Events appended per stream in one go. */
const BATCH = 1000;
/** Corrupt lines listed one by one; beyond, only counted. */
const LISTED_PROBLEMS = 20;

export function register(program: Command, context: CliContext): void {
  const importCommand = program
    .command('import')
    .description('bring history from the system DS01 replaces into the log');
  importCommand
    .command('ds01-infra-events')
    .description(
      "append ds01-infra's event log (/var/log/ds01/events.jsonl) to DS01's, so history reaches back before the switch",
    )
    .argument('<file>', 'the events.jsonl file (or a rotated copy: events.jsonl-20260101)')
    .option('--json', 'the summary as one JSON document')
    .addHelpText(
      'after',
      `
Every line is kept as a Ds01InfraEventImported event (its type, user, source and details as they
were); a user.added of a user DS01 does not know yet also registers them (UserRegistered). The usage
analytics and the audit trail read the imported history (GPU grants and releases, denials, containers,
lifecycle kills). Importing the same file twice, or a rotated copy holding the same lines, adds
nothing the second time. A line that cannot be read is reported with its number and skipped.

Examples:
  ds01 import ds01-infra-events /var/log/ds01/events.jsonl
  for f in /var/log/ds01/events.jsonl-*; do ds01 import ds01-infra-events "$f"; done`,
    )
    .action(async (file: string, options: { json?: boolean }) => {
      const store = await context.store({ write: true, create: true });
      const summary = await importFile(store, file, context.config().host);
      if (options.json) context.output.json(summary);
      else {
        context.output.line(
          `read ${summary.lines} lines of ${file}: ${summary.appended} new events (${summary.usersRegistered} users registered), ${summary.alreadyThere} already on the log`,
        );
      }
      for (const p of summary.problems.slice(0, LISTED_PROBLEMS))
        process.stderr.write(`${file}:${p.line}: ${p.problem} (skipped)\n`);
      if (summary.problems.length > LISTED_PROBLEMS) {
        process.stderr.write(
          `… and ${summary.problems.length - LISTED_PROBLEMS} more lines that could not be read\n`,
        );
      }
    });
}

export interface ImportSummary {
  lines: number;
  appended: number;
  alreadyThere: number;
  usersRegistered: number;
  problems: { line: number; problem: string }[];
}

async function importFile(store: EventStore, file: string, host: string): Promise<ImportSummary> {
  const input = createReadStream(file, 'utf8');
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', reject);
  });
  await opened.catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`, {
      hint: 'ds01-infra writes its log to /var/log/ds01/events.jsonl (rotated copies beside it)',
    });
  });
  const before = await store.countEvents();
  const actor = { kind: 'user' as const, name: userInfo().username };
  const pending = new Map<string, NewEvent[]>();
  const known = new Map<string, boolean>();
  const seen = new Map<string, number>();
  const summary: ImportSummary = { lines: 0, appended: 0, alreadyThere: 0, usersRegistered: 0, problems: [] };
  let total = 0;
  const flush = async (stream: string) => {
    const events = pending.get(stream);
    if (!events?.length) return;
    pending.delete(stream);
    await store.append(stream, events, { expectedRevision: 'any' });
  };
  // Users DS01 knows: registered on the log before, or by an earlier line of this import.
  const knownUser = (user: string) => known.get(user) === true;
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    summary.lines++;
    if (line.trim() === '') continue;
    const parsed = parseDs01InfraLine(line);
    if (!parsed.ok) {
      summary.problems.push({ line: summary.lines, problem: parsed.problem });
      continue;
    }
    const occurrence = (seen.get(line) ?? 0) + 1;
    seen.set(line, occurrence);
    const user = parsed.record.user;
    if (parsed.record.eventType === 'user.added' && user && !known.has(user)) {
      known.set(user, (await store.streamRevision(`user-${user}`)) !== 'no_stream');
    }
    for (const fact of importedFacts(parsed.record, line, occurrence, host, knownUser)) {
      if (fact.event.type === 'UserRegistered') {
        known.set(user!, true);
        summary.usersRegistered++;
      }
      const events = pending.get(fact.stream) ?? [];
      events.push({
        ...fact.event,
        metadata: {
          eventId: eventIdFor(new Date(fact.occurredAt), fact.identity),
          occurredAt: fact.occurredAt,
          actor,
          host,
          correlationId: `ds01-infra-import:${basename(file)}:${summary.lines}`,
          causationId: null,
        },
      });
      pending.set(fact.stream, events);
      total++;
      // A registration goes on the log before the user's later lines, as it happened: views that
      // read the group (usage by group) then have it for them.
      if (fact.event.type === 'UserRegistered') {
        for (const stream of [...pending.keys()]) await flush(stream);
      } else if (events.length >= BATCH) await flush(fact.stream);
    }
  }
  for (const stream of [...pending.keys()]) await flush(stream);
  summary.appended = (await store.countEvents()) - before;
  summary.alreadyThere = total - summary.appended;
  return summary;
}
