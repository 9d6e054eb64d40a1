import type { ExpectedRevision } from './envelope.ts';
import { WrongExpectedRevisionError } from './errors.ts';

/** Whether a stream at `current` satisfies what an append expected. */
export function satisfiesExpected(expected: ExpectedRevision, current: number | 'no_stream'): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return current === 'no_stream';
  if (expected === 'stream_exists') return current !== 'no_stream';
  return expected === current;
}

/** Throws WrongExpectedRevisionError (naming stream, expected and actual) when the check fails. */
export function checkExpectedRevision(
  streamId: string,
  expected: ExpectedRevision,
  current: number | 'no_stream',
): void {
  if (!satisfiesExpected(expected, current))
    throw new WrongExpectedRevisionError(streamId, expected, current);
}
