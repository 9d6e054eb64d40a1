import { nearest } from '@ds01/config';
import { eventCatalog } from '@ds01/domain';
import type { EventFilter, EventStore, RecordedEvent } from '@ds01/event-store';
import { type Command, Option } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { summarizeData } from '../output/summary.ts';
import { type Column, truncate } from '../output/table.ts';
import { relativeTime } from '../output/time.ts';
import { collect, nonNegativeInteger, positiveInteger } from './parse.ts';

interface TailOptions {
  follow?: boolean;
  stream?: string[];
  type?: string[];
  lines: number;
  since?: number;
  json?: boolean;
}

export function register(program: Command, context: CliContext): void {
  const events = program
    .command('events')
    .description('read the event log: what happened, when, and who did it');
  events
    .command('tail')
    .description('show the last events of the log, or follow it live')
    .option('-f, --follow', 'stay running and print events as they are appended (Ctrl-C ends)')
    .option(
      '--stream <prefix>',
      'only streams starting with this (repeatable), e.g. user-alice, container-',
      collect,
    )
    .option(
      '--type <type>',
      'only this event type (repeatable or comma-separated), e.g. UserRegistered',
      collect,
    )
    .addOption(
      new Option('-n, --lines <n>', 'how many of the last events to show')
        .default(20)
        .argParser(positiveInteger),
    )
    .option(
      '--since <position>',
      'every event after this log position (instead of the last -n)',
      nonNegativeInteger,
    )
    .option('--json', 'one JSON object per event (JSON lines)')
    .addHelpText(
      'after',
      `
Examples:
  ds01 events tail                          the last 20 events
  ds01 events tail -f --stream container-   follow every container's events
  ds01 events tail --type UserRegistered,UserDeparted -n 100
  ds01 events tail --since 41000 --json     everything after position 41000, for a script`,
    )
    .action(async (options: TailOptions) => {
      const filter = buildFilter(options);
      const store = await context.store();
      // The head before the first read: following resumes after it (or after the last event
      // shown, if later), so no event is missed or shown twice between the two.
      const head = await store.headPosition();
      const initial =
        options.since === undefined
          ? await lastEvents(store, filter, options.lines, head)
          : await drain(store.readAll({ after: options.since, filter }));
      if (!options.follow && !options.json) {
        context.output.table(columns, initial, '(no events match)');
        return;
      }
      const print = streamPrinter(context, options.json === true);
      for (const event of initial) print(event);
      if (!options.follow) return;
      const after = Math.max(initial.at(-1)?.position ?? 0, options.since ?? head);
      await follow(store, filter, after, print, context.interruption.claim());
    });
}

function buildFilter(options: TailOptions): EventFilter {
  const types = options.type ?? [];
  const known = eventCatalog.types;
  for (const type of types) {
    if (!known.includes(type)) {
      const suggestion = nearest(type, known);
      throw new CliError(
        `'${type}' is not an event type${suggestion ? ` (did you mean '${suggestion}'?)` : ''}`,
        {
          hint: `event types: ${known.join(', ')}`,
        },
      );
    }
  }
  return {
    ...(types.length > 0 ? { eventTypes: types } : {}),
    ...(options.stream?.length ? { streamPrefixes: options.stream } : {}),
  };
}

/**
 * The last `count` events matching the filter. The port reads forwards only, so this reads a
 * window before the head and widens it (4× each time) until it holds enough events.
 */
async function lastEvents(
  store: EventStore,
  filter: EventFilter,
  count: number,
  head: number,
): Promise<RecordedEvent[]> {
  for (let window = count * 2; ; window *= 4) {
    const after = Math.max(0, head - window);
    const { last, seen } = await keepLast(store.readAll({ after, filter }), count);
    if (seen >= count || after === 0) return last;
  }
}

/** The last `count` items of an iterable, holding no more than that in memory. */
async function keepLast<T>(iterable: AsyncIterable<T>, count: number): Promise<{ last: T[]; seen: number }> {
  const ring: T[] = [];
  let seen = 0;
  for await (const item of iterable) {
    ring[seen % count] = item;
    seen++;
  }
  const start = seen % count;
  return { last: seen <= count ? ring : [...ring.slice(start), ...ring.slice(0, start)], seen };
}

/**
 * Prints events as they are appended until `stop` aborts (Ctrl-C, SIGTERM, the reader of stdout
 * gone); then rejects with its reason, after the event being printed is printed whole.
 */
async function follow(
  store: EventStore,
  filter: EventFilter,
  after: number,
  onEvent: (event: RecordedEvent) => void,
  stop: AbortSignal,
): Promise<void> {
  const subscription = store.subscribeToAll({ after, filter });
  const close = () => void subscription.close();
  stop.addEventListener('abort', close, { once: true });
  try {
    for await (const event of subscription) {
      if (stop.aborted) break;
      onEvent(event);
    }
  } finally {
    stop.removeEventListener('abort', close);
  }
  stop.throwIfAborted();
}

const columns: readonly Column<RecordedEvent>[] = [
  { header: 'position', value: (e) => String(e.position), align: 'right' },
  { header: 'time', value: (e) => relativeTime(e.metadata.occurredAt) },
  { header: 'stream', value: (e) => e.streamId, shrink: true },
  { header: 'type', value: (e) => e.type },
  { header: 'actor', value: (e) => actorName(e), shrink: true },
  { header: 'summary', value: (e) => summarizeData(e.data), shrink: true },
];

function actorName(event: RecordedEvent): string {
  const { kind, name } = event.metadata.actor;
  return kind === 'service' ? `svc:${name}` : name;
}

/**
 * Prints events as they come (followed events cannot be laid out up front like a table):
 * fixed column widths fitted to the terminal, a header first; JSON lines with --json.
 */
function streamPrinter(context: CliContext, json: boolean): (event: RecordedEvent) => void {
  const { output } = context;
  if (json) return (event) => output.jsonLine(event);
  const widths = fixedWidths(output.width);
  const row = (values: readonly string[]) =>
    values
      .map((value, i) => {
        const text = truncate(value, widths[i]!);
        if (i === 0) return text.padStart(widths[i]!);
        return i === values.length - 1 ? text : text.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  output.line(row(columns.map((column) => column.header.toUpperCase())));
  return (event) => output.line(row(columns.map((column) => column.value(event))));
}

/** Widths of the streamed columns: fixed ones, the summary takes what the terminal has left. */
function fixedWidths(total: number): number[] {
  const widths = [8, 9, 30, 24, 18];
  const used = widths.reduce((a, b) => a + b, 0) + 2 * widths.length;
  if (!Number.isFinite(total)) return [...widths, 200];
  if (total - used < 20) widths[2] = Math.max(12, widths[2]! - (20 - (total - used)));
  const left = total - widths.reduce((a, b) => a + b, 0) - 2 * widths.length;
  return [...widths, Math.max(10, left)];
}

async function drain<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}
