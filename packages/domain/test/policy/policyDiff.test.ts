import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyPolicyDiff,
  diffPolicies,
  formatPolicyPath,
  type JsonValue,
  type PolicySnapshot,
  parsePolicyPath,
} from '../../src/index.ts';

describe('diffPolicies', () => {
  it('names each changed setting by its dotted path, with before and after', () => {
    const before = {
      groups: { student: { max_gpu_equivalents: 2, idle_timeout_h: 0.5 } },
      default_group: 'student',
    };
    const after = {
      groups: { student: { max_gpu_equivalents: 3, idle_timeout_h: 0.5 } },
      default_group: 'student',
    };
    expect(diffPolicies(before, after)).toEqual([
      { path: 'groups.student.max_gpu_equivalents', change: 'changed', before: 2, after: 3 },
    ]);
  });

  it('null (unlimited) and an absent key (the default) are different settings', () => {
    expect(diffPolicies({ d: { quota: null } }, { d: {} })).toEqual([
      { path: 'd.quota', change: 'removed', before: null },
    ]);
    expect(diffPolicies({ d: {} }, { d: { quota: null } })).toEqual([
      { path: 'd.quota', change: 'added', after: null },
    ]);
  });

  it('quotes keys that are not plain names (usernames with dots and @)', () => {
    const diff = diffPolicies({ members: {} }, { members: { 'h.baker@hertie-school.lan': 'researcher' } });
    expect(diff).toEqual([
      { path: 'members["h.baker@hertie-school.lan"]', change: 'added', after: 'researcher' },
    ]);
    expect(parsePolicyPath(diff[0]!.path)).toEqual(['members', 'h.baker@hertie-school.lan']);
  });

  it('a list is one value; a whole new section is one entry', () => {
    expect(diffPolicies({ a: [1, 2] }, { a: [1, 2] })).toEqual([]);
    expect(diffPolicies({ a: [1, 2] }, { a: [2, 1] })).toEqual([
      { path: 'a', change: 'changed', before: [1, 2], after: [2, 1] },
    ]);
    expect(diffPolicies({}, { policies: { grace_period_m: 30 } })).toEqual([
      { path: 'policies', change: 'added', after: { grace_period_m: 30 } },
    ]);
  });

  it('refuses a path it did not write', () => {
    expect(() => parsePolicyPath('groups..x')).toThrow(/not a policy path/);
    expect(formatPolicyPath(['0', 'a b'])).toBe('["0"]["a b"]');
  });

  const json: fc.Arbitrary<JsonValue> = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom(null, true, false),
      fc.integer(),
      fc.string(),
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), tie('value'), { maxKeys: 4 }),
    ),
  })).value as fc.Arbitrary<JsonValue>;
  const snapshot = fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), json, {
    maxKeys: 5,
  }) as fc.Arbitrary<PolicySnapshot>;

  it('applying the diff of two configurations to the first gives the second (so a stream folds back)', () => {
    fc.assert(
      fc.property(snapshot, snapshot, (a, b) => {
        expect(applyPolicyDiff(a, diffPolicies(a, b))).toEqual(b);
        expect(diffPolicies(a, a)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
