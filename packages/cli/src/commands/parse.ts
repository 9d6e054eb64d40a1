import { InvalidArgumentError } from 'commander';
import { CliError } from '../errors.ts';

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

const RELATIVE = /^(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)\s+ago$/i;
const UNIT_MS: Record<string, number> = { s: 1e3, m: 6e4, min: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 };

/**
 * `--at`: "2026-03-02T14:30Z", "2026-03-02 14:30" (local time), "now", "90m ago", "3d ago". A moment
 * no Date can hold ("99999999d ago") is refused like any other text, never an Invalid Date.
 */
export function parseMoment(text: string, now: Date): Date {
  const trimmed = text.trim();
  if (trimmed === 'now') return now;
  const relative = RELATIVE.exec(trimmed);
  const parsed = relative
    ? new Date(now.getTime() - Number(relative[1]) * UNIT_MS[relative[2]!.toLowerCase()]!)
    : new Date(trimmed.replace(/^(\d{4}-\d{2}-\d{2}) (\d)/, '$1T$2'));
  if ((relative || /^\d{4}-\d{2}-\d{2}/.test(trimmed)) && !Number.isNaN(parsed.getTime())) return parsed;
  throw new CliError(`--at '${text}' is not a moment DS01 can read`, {
    hint: 'give an ISO time (2026-03-02T14:30:00Z), a local "2026-03-02 14:30", or "2h ago"',
  });
}

/** A repeatable, comma-separated option (`--type A,B --type C`) as one list. */
export function collect(value: string, previous: string[] | undefined): string[] {
  const values = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  return [...(previous ?? []), ...values];
}
