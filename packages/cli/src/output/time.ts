const UNITS: readonly [limitSeconds: number, seconds: number, suffix: string][] = [
  [60, 1, 's'],
  [3600, 60, 'm'],
  [86_400, 3600, 'h'],
  [86_400 * 60, 86_400, 'd'],
  [86_400 * 730, 86_400 * 30, 'mo'],
  [Number.POSITIVE_INFINITY, 86_400 * 365, 'y'],
];

/** "just now", "42s ago", "3m ago", "5h ago", "12d ago", "in 3m" (for times ahead). */
export function relativeTime(instant: string | Date, now: Date = new Date()): string {
  const then = typeof instant === 'string' ? new Date(instant) : instant;
  if (Number.isNaN(then.getTime())) return String(instant);
  const seconds = Math.round((now.getTime() - then.getTime()) / 1000);
  const magnitude = Math.abs(seconds);
  if (magnitude < 5) return 'just now';
  for (const [limit, unit, suffix] of UNITS) {
    if (magnitude < limit) {
      const amount = `${Math.floor(magnitude / unit)}${suffix}`;
      return seconds >= 0 ? `${amount} ago` : `in ${amount}`;
    }
  }
  return then.toISOString();
}

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}
