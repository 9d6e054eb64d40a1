import { sanitiseUsername, sliceOwner, userSliceName } from '@ds01/domain';
import { describe, expect, it } from 'vitest';

describe('user slice names, as ds01-infra username_utils.py writes them', () => {
  // Expected values from username_utils.py's own docstring and self-test.
  it.each([
    ['alice', 'alice'],
    ['john.doe', 'john_doe'],
    ['h.baker@hertie-school.lan', 'h_baker'],
    ['user@domain.org', 'user'],
    ['test.user@sub.domain.edu', 'test_user'],
    ['a..b--c', 'a_b_c'],
    ['_x_', 'x'],
  ])('%s → %s', (name, sanitised) => {
    expect(sanitiseUsername(name)).toBe(sanitised);
  });

  it('keeps 27 characters and a 4-digit md5 suffix for names over 32', () => {
    const long = 'a.very.long.username.that.goes.beyond.the.limit';
    const result = sanitiseUsername(long);
    expect(result).toHaveLength(32);
    // The value ds01-infra's sanitize_username_for_slice gives (run with python3 on the same name).
    expect(result).toBe('a_very_long_username_that_g_aa6d');
  });

  it('names the slice ds01-<group>-<sanitised>.slice', () => {
    expect(userSliceName('student', 'h.baker@hertie-school.lan')).toBe('ds01-student-h_baker.slice');
  });

  it.each([
    ['ds01-student-h_baker.slice', { kind: 'sanitised', group: 'student', sanitised: 'h_baker' }],
    [
      'ds01.slice/ds01-student.slice/ds01-student-alice.slice',
      { kind: 'sanitised', group: 'student', sanitised: 'alice' },
    ],
    ['ds01.slice/user-1001.slice', { kind: 'uid', uid: 1001 }],
    ['ds01-student.slice', undefined],
    ['', undefined],
    ['/docker', undefined],
  ])('reads %j', (parent, owner) => {
    expect(sliceOwner(parent)).toEqual(owner);
  });
});
