import { InvalidArgumentError } from 'commander';
import { CliError } from '../errors.ts';
import { parseCalendarTime } from './calendarTime.ts';

/** Commander argument parsers: a wrong value is reported by commander with the option's name. */

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError(`'${value}' is not a whole number ≥ 1.`);
  return n;
}

export function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new InvalidArgumentError(`'${value}' is not a whole number ≥ 0.`);
  return n;
}

/** A whole UTC day written YYYY-MM-DD (2026-02-30 is refused), as its midnight in ms. */
export function utcDay(value: string): number {
  const calendar = /^\d{4}-\d{2}-\d{2}$/.test(value) ? parseCalendarTime(value) : undefined;
  if (!calendar) throw new InvalidArgumentError(`'${value}' is not a day written YYYY-MM-DD.`);
  if ('wrong' in calendar) throw new InvalidArgumentError(`'${value}' is no day: ${calendar.wrong}.`);
  return calendar.date.getTime();
}

const RELATIVE = /^(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)\s+ago$/i;
const UNIT_MS: Record<string, number> = { s: 1e3, m: 6e4, min: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 };

/**
 * `--at`: "2026-03-02T14:30Z", "2026-03-02 14:30" (local time), "now", "90m ago", "3d ago". A day
 * that does not exist (2026-02-30) and a moment no Date can hold ("99999999d ago") are refused,
 * never rolled over or an Invalid Date; with `past`, so is a moment after `now` (history has none).
 */
export function parseMoment(text: string, now: Date, options: { past?: boolean } = {}): Date {
  const trimmed = text.trim();
  const refuse = (why: string) =>
    new CliError(`--at '${text}' ${why}`, {
      hint: 'give an ISO time (2026-03-02T14:30:00Z), a local "2026-03-02 14:30", or "2h ago"',
    });
  let parsed: Date;
  if (trimmed === 'now') parsed = now;
  else {
    const relative = RELATIVE.exec(trimmed);
    const calendar = relative ? undefined : parseCalendarTime(trimmed);
    if (calendar && 'wrong' in calendar) throw refuse(`is no moment: ${calendar.wrong}`);
    if (!relative && !calendar) throw refuse('is not a moment DS01 can read');
    parsed = relative
      ? new Date(now.getTime() - Number(relative[1]) * UNIT_MS[relative[2]!.toLowerCase()]!)
      : calendar!.date;
  }
  if (Number.isNaN(parsed.getTime())) throw refuse('is not a moment DS01 can read');
  if (options.past && parsed.getTime() > now.getTime()) {
    throw new CliError(
      `--at '${text}' is in the future (${parsed.toISOString()}); the log holds only what happened`,
      {
        hint: 'for now, use --at now (or ds01 gpu status)',
      },
    );
  }
  return parsed;
}

const DURATION = /^(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)$/i;

/** `--for`: "90m", "2h", "3d", "1w" → milliseconds. */
export function duration(value: string): number {
  const match = DURATION.exec(value.trim());
  if (!match) throw new InvalidArgumentError(`'${value}' is not a duration like 90m, 2h, 3d or 1w.`);
  return Number(match[1]) * UNIT_MS[match[2]!.toLowerCase()]!;
}

/** A repeatable, comma-separated option (`--type A,B --type C`) as one list. */
export function collect(value: string, previous: string[] | undefined): string[] {
  const values = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  return [...(previous ?? []), ...values];
}
