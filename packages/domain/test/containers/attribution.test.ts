import { type AttributionFacts, attributeOwner, ownerCandidates, userDirectoryOf } from '@ds01/domain';
import { describe, expect, it } from 'vitest';
import { exitedInspect, type InspectChanges, inspectWith } from './inspectFixture.ts';

const users = userDirectoryOf([
  { name: 'alice', uid: 1001 },
  { name: 'h.baker@hertie-school.lan', uid: 1002 },
  { name: 'john.doe', uid: 1003 },
  { name: 'john_doe', uid: 1004 },
  { name: 'carol', uid: 1005 },
]);
const facts = (pathOwners: Record<string, number> = {}): AttributionFacts => ({
  users,
  pathOwners: new Map(Object.entries(pathOwners)),
});

/** The base container has no owner hints at all (a plain `docker create busybox`). */
const owner = (changes: InspectChanges, pathOwners?: Record<string, number>) =>
  attributeOwner(inspectWith({ labels: {}, ...changes }), facts(pathOwners));

describe('container owner attribution (ds01-infra order, then DS01 extras)', () => {
  it.each<[string, InspectChanges, string | null, string, Record<string, number>?]>([
    ['ds01.user', { labels: { 'ds01.user': 'alice' } }, 'alice', 'ds01_label'],
    [
      'ds01.user taken as written, even an unknown account',
      { labels: { 'ds01.user': 'zed' } },
      'zed',
      'ds01_label',
    ],
    ['legacy aime.mlc.USER', { labels: { 'aime.mlc.USER': 'carol' } }, 'carol', 'aime_label'],
    ['legacy bare aime.mlc', { labels: { 'aime.mlc': 'carol' } }, 'carol', 'aime_label'],
    [
      'devcontainer.local_folder under /home (domain account)',
      { labels: { 'devcontainer.local_folder': '/home/h.baker@hertie-school.lan/thesis' } },
      'h.baker@hertie-school.lan',
      'devcontainer',
    ],
    [
      'compose working_dir under /home',
      { labels: { 'com.docker.compose.project.working_dir': '/home/alice/stack' } },
      'alice',
      'compose_dir',
    ],
    [
      'cgroup parent user slice, mapped back from the sanitised name',
      { hostConfig: { CgroupParent: 'ds01-student-h_baker.slice' } },
      'h.baker@hertie-school.lan',
      'cgroup_slice',
    ],
    [
      'cgroup parent user-<uid>.slice (mlc-create-from-image)',
      { hostConfig: { CgroupParent: 'ds01.slice/user-1005.slice' } },
      'carol',
      'cgroup_slice',
    ],
    ['uid in a <name>._.<uid> name', { name: 'pytorch._.1001' }, 'alice', 'container_name'],
    [
      'bind-mounted /home/<user> the user owns',
      { hostConfig: { Binds: ['/home/carol/data:/data'] } },
      'carol',
      'mount_path',
      { '/home/carol/data': 1005 },
    ],
    ['numeric uid the container runs as', { user: '1003:1003' }, 'john.doe', 'container_uid'],
    ['nothing names anyone', {}, null, 'unknown'],
  ])('%s', (_case, changes, user, rule, pathOwners) => {
    expect(owner(changes, pathOwners)).toMatchObject({ user, rule });
  });

  it('takes the first rule that names someone: ds01.user over every other hint', () => {
    const result = owner({
      labels: {
        'ds01.user': 'alice',
        'aime.mlc.USER': 'carol',
        'devcontainer.local_folder': '/home/carol/x',
      },
      name: 'x._.1005',
      user: '1005',
    });
    expect(result).toEqual({ user: 'alice', rule: 'ds01_label', evidence: 'ds01.user=alice' });
  });

  it('devcontainer folder comes before the compose folder, both before the cgroup slice', () => {
    expect(
      owner({
        labels: {
          'devcontainer.local_folder': '/home/alice/a',
          'com.docker.compose.project.working_dir': '/home/carol/b',
        },
        hostConfig: { CgroupParent: 'ds01-student-carol.slice' },
      }).user,
    ).toBe('alice');
    expect(
      owner({
        labels: { 'com.docker.compose.project.working_dir': '/home/carol/b' },
        hostConfig: { CgroupParent: 'ds01-student-alice.slice' },
      }).user,
    ).toBe('carol');
  });

  it('a /home path of an account that does not exist names nobody: the next rule decides', () => {
    expect(owner({ labels: { 'devcontainer.local_folder': '/home/ghost/x' }, user: '1001' })).toMatchObject({
      user: 'alice',
      rule: 'container_uid',
    });
  });

  it('an ambiguous sanitised slice name (john.doe and john_doe) names nobody', () => {
    expect(owner({ hostConfig: { CgroupParent: 'ds01-student-john_doe.slice' } }).rule).toBe('unknown');
  });

  it("mounting someone else's home does not make the container theirs", () => {
    expect(
      owner({ hostConfig: { Binds: ['/home/carol/data:/data'] } }, { '/home/carol/data': 1001 }).rule,
    ).toBe('unknown');
  });

  it('root (uid 0) and user names from the image never attribute', () => {
    expect(owner({ user: '0:0' }).rule).toBe('unknown');
    expect(owner({ user: 'alice' }).rule).toBe('unknown');
  });

  it('a ._. name whose tail is not a uid names nobody', () => {
    expect(owner({ name: 'x._.abc' }).rule).toBe('unknown');
  });

  it('reads the real inspect of a container run with -v /tmp:/home/someone/data and --user 1001:1001', () => {
    const result = attributeOwner(inspectWith({}, exitedInspect), facts());
    // /tmp is not owned by an account called "someone" (there is none): the uid decides.
    expect(result).toMatchObject({ user: 'alice', rule: 'container_uid', evidence: 'runs as uid 1001' });
  });

  it('lists the names and uids the host must resolve', () => {
    const inspect = inspectWith({
      labels: { 'devcontainer.local_folder': '/home/alice/x' },
      name: 'p._.1007',
      user: '1008:1008',
      hostConfig: { Binds: ['/home/carol/d:/d'], CgroupParent: 'ds01.slice/user-1009.slice' },
    });
    const candidates = ownerCandidates(inspect);
    expect(candidates.names.sort()).toEqual(['alice', 'carol']);
    expect(candidates.uids.sort()).toEqual([1007, 1008, 1009]);
    const slice = inspectWith({ hostConfig: { CgroupParent: 'ds01-student-h_baker.slice' } });
    expect(ownerCandidates(slice).sanitisedNames).toEqual(['h_baker']);
  });
});
