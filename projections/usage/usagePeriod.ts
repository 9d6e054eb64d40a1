import { Ds01Error } from '@ds01/errors';
/** A --period (or ?period=) that cannot be read: says what it takes. */
export class UsagePeriodError extends Ds01Error {
  override name = 'UsagePeriodError';
  constructor(message: string, hint: string) {
    super(message, { hint });
  }
}

/** A period of whole UTC days, both ends included; `fromDay` null: since the first recorded usage. */
export interface DayPeriod {
  fromDay: string | null;
  toDay: string;
}

const RELATIVE = /^(\d+)(d|w|m|y)$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A period as `ds01 usage --period` and the usage API take it: `7d`, `4w`, `6m`, `1y` (the last N days, weeks, months or years up to today, today
 * included), `all`, or `FROM..TO` with UTC days (`2026-01-01..2026-06-30`; either end may be left
 * out: `2026-01-01..` is up to today).
 */
export function parsePeriod(text: string, now: Date): DayPeriod {
  const today = now.toISOString().slice(0, 10);
  const trimmed = text.trim();
  if (trimmed === 'all') return { fromDay: null, toDay: today };
  const relative = RELATIVE.exec(trimmed);
  if (relative) {
    const n = Number(relative[1]);
    if (n < 1) throw periodError(text);
    const from = new Date(`${today}T00:00:00Z`);
    const unit = relative[2];
    if (unit === 'd') from.setUTCDate(from.getUTCDate() - (n - 1));
    else if (unit === 'w') from.setUTCDate(from.getUTCDate() - (7 * n - 1));
    else if (unit === 'm') from.setUTCMonth(from.getUTCMonth() - n, from.getUTCDate() + 1);
    else from.setUTCFullYear(from.getUTCFullYear() - n, from.getUTCMonth(), from.getUTCDate() + 1);
    return { fromDay: from.toISOString().slice(0, 10), toDay: today };
  }
  const range = /^(\S*)\.\.(\S*)$/.exec(trimmed);
  if (range) {
    const [, from = '', to = ''] = range;
    if ((from && !validDay(from)) || (to && !validDay(to))) throw periodError(text);
    const toDay = to || today;
    if (from && from > toDay) {
      throw new UsagePeriodError(`period '${text}' ends before it begins`, 'give FROM..TO with FROM first');
    }
    return { fromDay: from || null, toDay };
  }
  throw periodError(text);
}

function validDay(text: string): boolean {
  return DAY.test(text) && new Date(`${text}T00:00:00Z`).toISOString().slice(0, 10) === text;
}

function periodError(text: string): UsagePeriodError {
  return new UsagePeriodError(
    `period '${text}' is not a period DS01 can read`,
    'give 7d, 30d, 1y, all, or FROM..TO with UTC days (2026-01-01..2026-06-30)',
  );
}
