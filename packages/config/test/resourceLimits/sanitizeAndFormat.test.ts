import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pythonFloat, pythonStr } from '../../src/resourceLimits/pythonFormat.ts';
import { sanitizeUsernameForSlice, userSliceName } from '../../src/resourceLimits/sanitizeUsername.ts';
import { ds01InfraFiles, runPython, unavailableReason } from './ds01InfraParser.ts';

const reason = unavailableReason();
const skipped = reason ? ` (skipped: ${reason})` : '';

describe('sanitizeUsernameForSlice (ds01-infra username_utils.py)', () => {
  it.each([
    ['alice', 'alice'],
    ['h.baker@hertie-school.lan', 'h_baker'],
    ['test.user@sub.domain.edu', 'test_user'],
    ['.user.', 'user'],
    ['user..name', 'user_name'],
    ["Jane.O'Neil@X", 'Jane_O_Neil'],
    ['a:b', 'a:b'],
    ['a-b', 'a_b'],
    ['zoë', 'zo'],
    ['', ''],
    // 34 characters: the first 27 (no trailing _), _, and md5("<original>")[:4]
    ['konstantin.papadopoulos-vanderberg@hertie-school.lan', 'konstantin_papadopoulos_van_d929'],
  ])('%s → %s', (user, sanitized) => {
    expect(sanitizeUsernameForSlice(user)).toBe(sanitized);
  });

  it('names the slice ds01-<group>-<user>.slice', () => {
    expect(userSliceName('researcher', 'h.baker@hertie-school.lan')).toBe('ds01-researcher-h_baker.slice');
  });

  it('never gives a hyphen or more than 32 characters', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (user) => {
        const sanitized = sanitizeUsernameForSlice(user);
        expect(sanitized).not.toMatch(/-/);
        expect(sanitized.length).toBeLessThanOrEqual(32);
      }),
    );
  });

  it.skipIf(reason !== undefined)(`gives what ds01-infra's own function gives${skipped}`, () => {
    const users = fc.sample(
      fc.oneof(
        fc.string({ maxLength: 60 }),
        fc.stringMatching(/^[a-z]{1,20}(\.[a-z]{1,25})?@[a-z-]{1,20}\.(lan|org)$/),
        fc.string({ unit: 'grapheme', maxLength: 40 }),
      ),
      { numRuns: 300, seed: 5 },
    );
    // The same code as scripts/lib/username_utils.py, taken from ds01-infra at test time.
    const python = runPython(
      `namespace = {}\nexec(open(${JSON.stringify(join(ds01InfraFiles, 'scripts/lib/username_utils.py'))}).read(), namespace)\nconvert = namespace["sanitize_username_for_slice"]`,
      users,
    );
    expect(users.map(sanitizeUsernameForSlice)).toEqual(python);
  });
});

describe("pythonStr / pythonFloat (Python's str())", () => {
  it.each([
    [1, false, '1'],
    [1, true, '1.0'],
    [0.5, false, '0.5'],
    [1e-5, false, '1e-05'],
    [1500, true, '1500.0'],
    [1e16, true, '1e+16'],
    [-0, true, '-0.0'],
    [123456789012345680, false, '123456789012345680'],
    [null, false, 'None'],
    [true, false, 'True'],
    ['32g', false, '32g'],
  ])('%o (float: %o) prints %s', (value, isFloat, text) => {
    expect(pythonStr(value, isFloat)).toBe(text);
  });

  it.skipIf(reason !== undefined)(`prints every float as Python's repr does${skipped}`, () => {
    const numbers = [
      // -0 would reach Python as 0 through JSON: it has its own case above.
      ...fc
        .sample(fc.double({ noNaN: true, noDefaultInfinity: true }), { numRuns: 400, seed: 7 })
        .map((n) => n || 0),
      ...fc.sample(
        fc.integer({ min: -1e6, max: 1e6 }).map((n) => n / 1000),
        { numRuns: 200, seed: 8 },
      ),
      0.1,
      1e-4,
      1e-5,
      1e15,
      1e16,
      123456789.125,
      5e-324,
      1.7976931348623157e308,
    ];
    const python = runPython('def convert(x):\n    return repr(float(x))', numbers);
    expect(numbers.map(pythonFloat)).toEqual(python);
  });
});
