import { describe, expect, it } from 'vitest';
import {
  type ApplyPolicyChange,
  eventCatalog,
  PolicyChanged,
  type PolicyEvent,
  PolicyRejected,
  policyDecider,
} from '../../src/index.ts';
import { DeciderSpecification } from '../../src/testing/deciderSpecification.ts';

const spec = DeciderSpecification.for(policyDecider);
const sha = (c: string) => c.repeat(64);
const root = { uid: 0, user: 'root' };
const alice = { uid: 1000, user: 'alice' };

const first: PolicyEvent = PolicyChanged({
  file: 'resource-limits.yaml',
  sha256: sha('a'),
  diff: [{ path: 'groups', change: 'added', after: { student: { max_gpu_equivalents: 2 } } }],
  changedBy: 'unknown',
  fileOwner: root,
});

const change = (overrides: Partial<ApplyPolicyChange> = {}): ApplyPolicyChange => ({
  files: [{ file: 'resource-limits.yaml', sha256: sha('b') }],
  snapshot: { groups: { student: { max_gpu_equivalents: 3 } } },
  changedBy: 'unknown',
  fileOwner: alice,
  ...overrides,
});

describe('the policy stream', () => {
  it('records the first configuration as a diff from nothing', () => {
    spec
      .given([])
      .when(
        change({
          files: [{ file: 'resource-limits.yaml', sha256: sha('a') }],
          snapshot: { groups: { student: { max_gpu_equivalents: 2 } } },
          fileOwner: root,
        }),
      )
      .then([first]);
  });

  it('records a change with what changed and who changed it', () => {
    spec
      .given([first])
      .when(change())
      .then([
        PolicyChanged({
          file: 'resource-limits.yaml',
          sha256: sha('b'),
          diff: [{ path: 'groups.student.max_gpu_equivalents', change: 'changed', before: 2, after: 3 }],
          changedBy: 'unknown',
          fileOwner: alice,
        }),
      ]);
  });

  it('decides nothing when the same files are applied again (a restarted ds01d)', () => {
    spec
      .given([first])
      .when(
        change({
          files: [{ file: 'resource-limits.yaml', sha256: sha('a') }],
          snapshot: { groups: { student: { max_gpu_equivalents: 2 } } },
        }),
      )
      .thenNothingHappened();
  });

  it('records a new hash with an empty diff when only a comment changed', () => {
    spec
      .given([first])
      .when(change({ snapshot: { groups: { student: { max_gpu_equivalents: 2 } } } }))
      .thenEvents((events) => {
        expect(events).toHaveLength(1);
        expect(events[0]!.data).toMatchObject({ sha256: sha('b'), diff: [] });
      });
  });

  it('a removed file, and files valid only together, are recorded in one change', () => {
    spec
      .given([first])
      .when(
        change({
          files: [
            { file: 'groups/student.members', sha256: null },
            { file: 'groups/researcher.members', sha256: sha('c') },
          ],
          snapshot: { groups: { student: { max_gpu_equivalents: 2 } }, members: { ana: 'researcher' } },
        }),
      )
      .then([
        PolicyChanged({
          file: 'groups/student.members',
          sha256: null,
          diff: [{ path: 'members', change: 'added', after: { ana: 'researcher' } }],
          changedBy: 'unknown',
          fileOwner: alice,
          alsoChanged: [{ file: 'groups/researcher.members', sha256: sha('c') }],
        }),
      ]);
  });

  it('folds the stream back to the configuration and file hashes last applied', () => {
    const state = [
      first,
      PolicyChanged({ file: 'groups/student.members', sha256: sha('d'), diff: [] }),
    ].reduce(policyDecider.evolve, policyDecider.initialState());
    expect(state).toEqual({
      snapshot: { groups: { student: { max_gpu_equivalents: 2 } } },
      files: { 'resource-limits.yaml': sha('a'), 'groups/student.members': sha('d') },
      rejected: null,
    });
  });

  const problems = [{ file: 'resource-limits.yaml', line: 3, column: 5, key: 'x', message: 'is negative' }];
  const reject = {
    kind: 'reject' as const,
    files: [{ file: 'resource-limits.yaml', sha256: sha('e') }],
    problems,
  };

  it('records a refused change once per state of the files; the configuration in force is unchanged', () => {
    spec
      .given([first])
      .when(reject)
      .then([PolicyRejected({ files: reject.files, problems })]);
    spec
      .given([first, PolicyRejected({ files: reject.files, problems })])
      .when(reject)
      .thenNothingHappened();
    const state = [first, PolicyRejected({ files: reject.files, problems })].reduce(
      policyDecider.evolve,
      policyDecider.initialState(),
    );
    expect(state.snapshot).toEqual(policyDecider.evolve(policyDecider.initialState(), first).snapshot);
  });

  it('the same refused files are recorded again after a valid change came between', () => {
    spec
      .given([
        first,
        PolicyRejected({ files: reject.files, problems }),
        PolicyChanged({ file: 'x', sha256: sha('f'), diff: [] }),
      ])
      .when(reject)
      .then([PolicyRejected({ files: reject.files, problems })]);
  });

  it("version 1 put the file's owner in changedBy: read back as the owner, the editor unknown", () => {
    const decoded = eventCatalog.decode('PolicyChanged', 1, {
      file: 'resource-limits.yaml',
      sha256: sha('a'),
      diff: [],
      changedBy: { uid: 1018, user: 'bob' },
    });
    expect(decoded).toEqual({
      version: 2,
      data: {
        file: 'resource-limits.yaml',
        sha256: sha('a'),
        diff: [],
        changedBy: 'unknown',
        fileOwner: { uid: 1018, user: 'bob' },
      },
    });
  });
});
