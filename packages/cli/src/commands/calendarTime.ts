/**
 * A written date and time, read strictly: `2026-02-30` is no day, and JavaScript's Date would
 * quietly make it March 2 (a question about February 30 answered for March 2). Accepts
 * `YYYY-MM-DD`, then optionally `T` or a space, `HH:MM`, `:SS`, `.fraction`, and a zone (`Z`,
 * `+02:00`, `+0200`); without a zone the time is local, a date alone is midnight UTC (as Date reads it).
 */
const CALENDAR =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

export type CalendarTime = { date: Date } | { wrong: string } | undefined;

/** The moment written, what is wrong with it, or undefined when it is not written as a date. */
export function parseCalendarTime(text: string): CalendarTime {
  const match = CALENDAR.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s = '0', fraction = '', zone] = match;
  const [year, month, day, hour, minute, second] = [y, mo, d, h ?? '0', mi ?? '0', s].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12) return { wrong: `month ${mo} does not exist` };
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > days) return { wrong: `${y}-${mo} has no day ${d} (it has ${days})` };
  if (hour > 23 || minute > 59 || second > 59)
    return { wrong: `${h}:${mi}${match[6] === undefined ? '' : `:${match[6]}`} is not a time of day` };
  if (zone) {
    const [zh, zm] = [Number(zone.slice(1, 3)), Number(zone.slice(-2))];
    if (zone.toUpperCase() !== 'Z' && (zh > 14 || zm > 59))
      return { wrong: `${zone} is not a time zone offset` };
  }
  const ms = Math.floor(Number(`0.${fraction || '0'}`) * 1000);
  if (h === undefined && !zone) return { date: new Date(Date.UTC(year, month - 1, day)) };
  if (!zone) return { date: new Date(year, month - 1, day, hour, minute, second, ms) };
  const offsetMinutes =
    zone.toUpperCase() === 'Z'
      ? 0
      : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)));
  return {
    date: new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000),
  };
}
