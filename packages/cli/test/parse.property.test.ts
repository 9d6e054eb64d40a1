import { InvalidArgumentError } from 'commander';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anyText, check, resultOrTypedError } from '../../../test/support/fuzz.ts';
import { nonNegativeInteger, parseMoment, positiveInteger } from '../src/commands/parse.ts';
import { CliError } from '../src/errors.ts';

const NOW = new Date('2026-03-02T14:30:00.000Z');

/** Text people type into an option: numbers in every spelling, dates, durations, junk. */
const typed = fc.oneof(
  anyText(40),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom('0', '-0', '1e3', '0x10', ' 7 ', '', '9007199254740993', 'Infinity', 'NaN', '1_000'),
  fc
    .tuple(
      fc.oneof(fc.nat(), fc.double({ min: 0, noNaN: true }), fc.constant(1e300)),
      fc.constantFrom('s', 'm', 'min', 'h', 'd', 'w', 'y'),
    )
    .map(([n, unit]) => `${n}${unit} ago`),
  fc
    .date({ noInvalidDate: false })
    .map((date) => (Number.isNaN(date.getTime()) ? 'Invalid Date' : date.toISOString())),
  fc
    .tuple(fc.integer({ min: 0, max: 99999 }), fc.nat(99), fc.nat(99), fc.nat(99), fc.nat(99))
    .map(
      ([y, m, d, h, min]) =>
        `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')} ${h}:${min}`,
    ),
);

describe('CLI argument parsers on any input (property)', () => {
  it('--at: a valid Date, or a CliError naming the option and what it accepts', () => {
    check(
      typed,
      (text) => {
        const outcome = resultOrTypedError(
          () => parseMoment(text, NOW),
          (error) => error instanceof CliError && error.message.startsWith('--at ') && !!error.hint,
          text,
        );
        if ('value' in outcome) expect(Number.isNaN(outcome.value.getTime())).toBe(false);
      },
      500,
    );
  });

  it('-n, --count, --since: a safe whole number in range, or commander’s InvalidArgumentError', () => {
    check(
      typed,
      (text) => {
        for (const [parse, min] of [
          [positiveInteger, 1],
          [nonNegativeInteger, 0],
        ] as const) {
          const outcome = resultOrTypedError(
            () => parse(text),
            (error) => error instanceof InvalidArgumentError,
            text,
          );
          if ('value' in outcome)
            expect(Number.isSafeInteger(outcome.value) && outcome.value >= min).toBe(true);
        }
      },
      500,
    );
  });

  it('"99999999999d ago" (past what a Date holds) is refused, not an Invalid Date', () => {
    expect(() => parseMoment('99999999999d ago', NOW)).toThrow(CliError);
  });
});
