const LONG_HEX = /^[0-9a-f]{32,}$/;

/**
 * An event's data on one line: `key=value` pairs, long hex ids cut to 12 characters like Docker
 * does, nested values as compact JSON. `{user: 'alice', uid: 1001}` → `user=alice uid=1001`.
 */
export function summarizeData(data: unknown): string {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return JSON.stringify(data) ?? '';
  return Object.entries(data as Record<string, unknown>)
    .map(([key, value]) => `${key}=${summarizeValue(value)}`)
    .join(' ');
}

function summarizeValue(value: unknown): string {
  if (typeof value === 'string') {
    if (LONG_HEX.test(value)) return value.slice(0, 12);
    return /[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  }
  return JSON.stringify(value) ?? 'undefined';
}
