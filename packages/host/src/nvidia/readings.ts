import { NvidiaOutputError } from './errors.ts';

/**
 * What nvidia-smi writes where it has no value. The XML writes the words bare ("N/A", "Not Supported"),
 * the CSV in brackets ("[N/A]", "[Requested functionality has been deprecated]"); every bracketed CSV
 * value is a placeholder. These become absent values (null), never zeros: a GPU in MIG mode has no
 * utilisation, which is not the same as an idle one.
 */
const PLACEHOLDERS = new Set([
  '',
  'n/a',
  'not supported',
  'not available',
  'not found',
  'unknown error',
  'insufficient permissions',
  'requested functionality has been deprecated',
  'gpu is lost',
  'gpu requires reset',
]);

/** The text of a reading, or null when nvidia-smi wrote a placeholder instead of a value. */
export function readingText(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const text = raw.trim();
  if (text.startsWith('[') && text.endsWith(']')) return null;
  return PLACEHOLDERS.has(text.toLowerCase()) ? null : text;
}

/** Where a reading came from, for the error that says it could not be read. */
export interface ReadingSource {
  command: string;
  location: string;
}

/**
 * A number with an optional unit ("19968 MiB", "67.03 W", "0 %", "27 C"), or null for a placeholder.
 * A unit other than the expected one, or text that is not a number, is garbled output; so is a
 * negative amount (memory, power, utilisation) unless the reading is `signed` (a temperature).
 */
export function readingNumber(
  raw: string | undefined,
  unit: string | null,
  source: ReadingSource,
  options: { signed?: boolean } = {},
): number | null {
  const text = readingText(raw);
  if (text === null) return null;
  const match = /^(-?\d+(?:\.\d+)?)(?:\s*(\S+))?$/.exec(text);
  const value = match ? Number(match[1]) : Number.NaN;
  if (!match || (match[2] !== undefined && match[2] !== unit) || (value < 0 && !options.signed)) {
    throw new NvidiaOutputError(
      source.command,
      source.location,
      `expected a ${match && value < 0 ? 'non-negative ' : ''}number${unit ? ` in ${unit}` : ''}`,
      text,
    );
  }
  return value;
}

/** A non-negative integer reading (an index, a pid, an instance id), or null for a placeholder. */
export function readingInteger(raw: string | undefined, source: ReadingSource): number | null {
  const value = readingNumber(raw, null, source, { signed: true });
  if (value !== null && !(Number.isSafeInteger(value) && value >= 0)) {
    throw new NvidiaOutputError(source.command, source.location, 'expected a whole number', String(raw));
  }
  return value;
}

/** "Enabled"/"Disabled" (and the CSV's "Yes"/"No"), or null for a placeholder. */
export function readingSwitch(raw: string | undefined, source: ReadingSource): boolean | null {
  const text = readingText(raw);
  if (text === null) return null;
  const lower = text.toLowerCase();
  if (lower === 'enabled' || lower === 'yes' || lower === 'on') return true;
  if (lower === 'disabled' || lower === 'no' || lower === 'off') return false;
  throw new NvidiaOutputError(source.command, source.location, 'expected Enabled or Disabled', text);
}
