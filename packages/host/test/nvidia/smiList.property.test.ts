import fc from 'fast-check';
import { describe, it } from 'vitest';
import { anyText, check, mutationOf, resultOrTypedError } from '../../../../test/support/fuzz.ts';
import { NvidiaOutputError, parseSmiList, SmiListSchema } from '../../src/nvidia/index.ts';
import { captures } from './captures.ts';

/** A refusal names the command and where in the output: "nvidia-smi -L: line 3: …". */
function isOutputError(error: unknown): boolean {
  return (
    error instanceof NvidiaOutputError &&
    error.command === 'nvidia-smi -L' &&
    error.location !== '' &&
    error.message.startsWith(`nvidia-smi -L: ${error.location}: `)
  );
}

function parsesOrRefuses(text: string): void {
  const outcome = resultOrTypedError(() => parseSmiList(text), isOutputError, text);
  // What it returns is always a list the inventory can be built on.
  if ('value' in outcome) SmiListSchema.parse(outcome.value);
}

describe('parseSmiList on any input (property)', () => {
  it('arbitrary text and bytes: a list or an NvidiaOutputError naming the line', () => {
    check(anyText(), parsesOrRefuses, 300);
  });

  it.each(captures('list').map((capture) => [capture.file, capture.text]))(
    'mutations of the real capture %s',
    (_file, text) => {
      check(mutationOf(text), parsesOrRefuses, 300);
    },
  );

  it('lines shaped like -L with odd numbers, names and UUIDs', () => {
    const line = fc.oneof(
      fc
        .tuple(
          fc.oneof(fc.nat(), fc.constant(2 ** 60)),
          anyText(20),
          fc.string({ unit: fc.constantFrom(...'0123456789abcdef-'), maxLength: 40 }),
        )
        .map(([n, name, hex]) => `GPU ${n}: ${name} (UUID: GPU-${hex})`),
      fc
        .tuple(
          fc.stringMatching(/^\d{1,3}c?\.?\d{1,2}g\.\d{1,4}gb$/),
          fc.oneof(fc.nat(), fc.constant(2 ** 60)),
        )
        .map(([profile, n]) => `  MIG ${profile} Device ${n}: (UUID: MIG-GPU-abc/${n}/99999999999999999999)`),
    );
    check(
      fc.array(line, { maxLength: 8 }).map((lines) => lines.join('\n')),
      parsesOrRefuses,
      300,
    );
  });
});
