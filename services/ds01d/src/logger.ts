import type { Writable } from 'node:stream';
import { type LevelWithSilent, type Logger, pino } from 'pino';

/**
 * ds01d's logger: JSON lines (one object per line, for journald, Loki or jq) when stdout is not a
 * terminal; on a terminal the same records as short readable lines. Both come from pino itself:
 * the readable form is a destination stream that reformats each JSON line (no pino-pretty).
 */
export function createLogger(
  level: LevelWithSilent,
  out: Writable & { isTTY?: boolean } = process.stdout,
): Logger {
  const options = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (out.isTTY) return pino(options, readableLines(out));
  return pino(options, out === process.stdout ? pino.destination({ dest: 1, sync: true }) : out);
}

const HIDDEN = new Set(['level', 'time', 'msg', 'pid']);

/** `13:04:05.123 INFO  ds01d ready dataDir=/var/lib/ds01 services=3` */
function readableLines(out: Writable): { write(line: string): void } {
  return {
    write(line: string) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      const time = typeof record['time'] === 'string' ? record['time'].slice(11, 23) : '';
      const level = String(record['level'] ?? '')
        .toUpperCase()
        .padEnd(5);
      const fields = Object.entries(record)
        .filter(([key]) => !HIDDEN.has(key))
        .map(([key, value]) => `${key}=${formatValue(value)}`)
        .join(' ');
      out.write(`${time} ${level} ${String(record['msg'] ?? '')}${fields ? ` ${fields}` : ''}\n`);
    },
  };
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  if (value && typeof value === 'object' && 'message' in value && 'stack' in value) {
    return JSON.stringify((value as { message: unknown }).message);
  }
  return JSON.stringify(value);
}
