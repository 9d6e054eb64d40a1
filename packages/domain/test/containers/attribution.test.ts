import {
  type AttributionFacts,
  actingNeedsAdminConfirmation,
  attributeOwner,
  chargeableOwner,
  gatewayOwner,
  ownerCandidates,
  ownershipSummary,
  userDirectoryOf,
} from '@ds01/domain';
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
      { '/home/h.baker@hertie-school.lan/thesis': 1002 },
    ],
    [
      'compose working_dir under /home',
      { labels: { 'com.docker.compose.project.working_dir': '/home/alice/stack' } },
      'alice',
      'compose_dir',
      { '/home/alice/stack': 1001 },
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
  ])('%s: a claim, never verified', (_case, changes, user, rule, pathOwners) => {
    expect(owner(changes, pathOwners)).toMatchObject({ user, rule, verified: false });
  });

  it("the gateway's authorization is the verified owner; through the admin socket nobody is", () => {
    const socket = { path: '/run/ds01/users/alice/docker.sock' };
    expect(gatewayOwner({ user: 'alice', socket })).toEqual({
      user: 'alice',
      rule: 'gateway',
      evidence: 'created through /run/ds01/users/alice/docker.sock',
      verified: true,
    });
    expect(gatewayOwner({ user: null, socket: { path: '/run/ds01/admin.sock' } })).toBeNull();
  });

  it.each<[string, InspectChanges]>([
    ['compose working_dir', { labels: { 'com.docker.compose.project.working_dir': '/home/carol/proj' } }],
    ['devcontainer.local_folder', { labels: { 'devcontainer.local_folder': '/home/carol/x' } }],
  ])("a %s in someone else's home that they do not own names nobody (finding 2)", (_case, changes) => {
    // alice wrote the label; /home/carol/proj is alice's (or does not exist: its parent is carol's home).
    expect(owner(changes, { '/home/carol/proj': 1001, '/home/carol/x': 1001 }).rule).toBe('unknown');
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
    expect(result).toEqual({
      user: 'alice',
      rule: 'ds01_label',
      evidence: 'ds01.user=alice',
      verified: false,
    });
  });

  it('devcontainer folder comes before the compose folder, both before the cgroup slice', () => {
    expect(
      owner(
        {
          labels: {
            'devcontainer.local_folder': '/home/alice/a',
            'com.docker.compose.project.working_dir': '/home/carol/b',
          },
          hostConfig: { CgroupParent: 'ds01-student-carol.slice' },
        },
        { '/home/alice/a': 1001, '/home/carol/b': 1005 },
      ).user,
    ).toBe('alice');
    expect(
      owner(
        {
          labels: { 'com.docker.compose.project.working_dir': '/home/carol/b' },
          hostConfig: { CgroupParent: 'ds01-student-alice.slice' },
        },
        { '/home/carol/b': 1005 },
      ).user,
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

describe('what an attribution may be used for (ownership.ts)', () => {
  const claim = { user: 'bob', rule: 'ds01_label' as const, evidence: 'ds01.user=bob', verified: false };
  const verified = { user: 'alice', rule: 'gateway' as const, evidence: 'socket', verified: true };
  const before2026_12 = { user: 'bob', rule: 'ds01_label' as const, evidence: 'ds01.user=bob' };

  it('only a verified owner is charged; a claim (or an old description) is charged to nobody', () => {
    expect(chargeableOwner(verified)).toBe('alice');
    expect(chargeableOwner(claim)).toBeNull();
    expect(chargeableOwner(before2026_12)).toBeNull();
  });

  it("acting on a claimed owner's work needs an admin's confirmation", () => {
    expect(actingNeedsAdminConfirmation(claim)).toBe(true);
    expect(actingNeedsAdminConfirmation(verified)).toBe(false);
  });

  it('says how far the owner can be trusted', () => {
    expect(ownershipSummary(claim)).toBe('claimed by label: ds01_label');
    expect(ownershipSummary({ rule: 'compose_dir', verified: false })).toBe('claimed by path: compose_dir');
    expect(ownershipSummary(verified)).toBe('verified: gateway');
    expect(ownershipSummary({ rule: 'unknown', verified: false })).toBe('unknown');
  });
});
