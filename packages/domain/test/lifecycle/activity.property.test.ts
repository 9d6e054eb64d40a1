import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addStep, lastActiveEnd, type Staircase } from '../../src/index.ts';

const T0 = Date.parse('2026-03-02T00:00:00.000Z');
const end = (i: number) => new Date(T0 + i * 300_000).toISOString();

describe('activity staircase', () => {
  it('tells the last window at or over any threshold as a full list of windows would, in any order of arrival', () => {
    const window = fc.record({
      i: fc.integer({ min: 0, max: 40 }),
      value: fc.option(fc.integer({ min: 0, max: 100 })),
    });
    fc.assert(
      fc.property(
        fc.array(window, { maxLength: 40 }),
        fc.integer({ min: 0, max: 101 }),
        (windows, threshold) => {
          const stairs = windows.reduce<Staircase>(
            (s, w) => addStep(s, { end: end(w.i), value: w.value }),
            [],
          );
          const active = windows.filter((w) => w.value === null || w.value >= threshold).map((w) => w.i);
          const expected = active.length === 0 ? null : end(Math.max(...active));
          expect(lastActiveEnd(stairs, threshold)).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});
