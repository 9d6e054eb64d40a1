import {
  ContainerCreateAuthorized,
  ContainerCreated,
  ContainerDescribed,
  ContainerIdle,
  ContainerRemoved,
  ContainerRenamed,
  ContainerStarted,
  ContainerStopped,
  UnmanagedContainerDetected,
} from '@ds01/domain';
import { describe, expect, it } from 'vitest';
import { projectionSpec } from '../runner/projectionSpec.ts';
import { containersProjection } from './containersProjection.ts';

const ID = 'c'.repeat(64);
const ref = { containerId: ID, name: 'box', observation: 'observed' as const, dockerEvent: null };
const description = {
  image: 'busybox',
  imageId: 'sha256:1',
  createdAt: '2025-01-01T00:00:00.000Z',
  owner: {
    user: 'alice',
    rule: 'compose_dir' as const,
    evidence: 'com.docker.compose.project.working_dir=/home/alice/p',
  },
  interface: 'other' as const,
  type: 'compose' as const,
  managed: false,
  infrastructure: false,
  gpu: { access: 'count' as const, count: 2, via: 'device_request' as const },
  cgroupParent: null,
  limits: null,
  labels: {},
};
const created = ContainerCreated({ ...ref, image: 'busybox', labels: {} });
const described = ContainerDescribed({ ...ref, describedFrom: 'inspect', ...description });
const detected = UnmanagedContainerDetected({
  ...ref,
  owner: description.owner,
  interface: 'other',
  type: 'compose',
  image: 'busybox',
  gpu: description.gpu,
});
const started = ContainerStarted({ ...ref, startedAt: '2025-01-01T00:01:00.000Z' });
const COLUMNS =
  'name, status, owner, owner_rule, interface, type, unmanaged, gpu, exit_code, idle_since, removed_at';

describe('containers projection', () => {
  it('a created, started container: owner with its rule, interface, type, GPU', () => {
    const rows = projectionSpec(containersProjection)
      .given(created, described, detected)
      .when(started)
      .rows(`SELECT ${COLUMNS} FROM containers`);
    expect(rows).toEqual([
      {
        name: 'box',
        status: 'running',
        owner: 'alice',
        owner_rule: 'compose_dir',
        interface: 'other',
        type: 'compose',
        unmanaged: 1,
        gpu: '2',
        exit_code: null,
        idle_since: null,
        removed_at: null,
      },
    ]);
  });

  it('stopped, renamed, idle, then removed: the row keeps its history', () => {
    const rows = projectionSpec(containersProjection)
      .given(created, described, started)
      .when(
        ContainerIdle({ containerId: ID, idleSince: '2025-01-01T00:30:00.000Z' }),
        ContainerStopped({ ...ref, exitCode: 137, oomKilled: true, finishedAt: '2025-01-01T01:00:00.000Z' }),
        ContainerRenamed({ ...ref, name: 'renamed', oldName: 'box' }),
        { ...ContainerRemoved({ ...ref, name: 'renamed' }), occurredAt: '2025-01-01T02:00:00.000Z' },
      )
      .rows(`SELECT ${COLUMNS} FROM containers`);
    expect(rows).toEqual([
      expect.objectContaining({
        name: 'renamed',
        status: 'removed',
        exit_code: 137,
        idle_since: '2025-01-01T00:30:00.000Z',
        removed_at: '2025-01-01T02:00:00.000Z',
      }),
    ]);
  });

  it('created, not yet described: the row is there with its image, owner not yet known', () => {
    const rows = projectionSpec(containersProjection)
      .given({ ...created, occurredAt: '2025-01-01T00:00:00.000Z' })
      .when(started)
      .rows(`SELECT ${COLUMNS}, image, created_at FROM containers`);
    expect(rows).toEqual([
      expect.objectContaining({
        status: 'running',
        owner: null,
        owner_rule: null,
        gpu: 'unknown',
        image: 'busybox',
        created_at: '2025-01-01T00:00:00.000Z',
      }),
    ]);
  });

  it('events of a container whose creation the log lacks still give a row (owner unknown)', () => {
    const rows = projectionSpec(containersProjection).when(started).rows(`SELECT ${COLUMNS} FROM containers`);
    expect(rows).toEqual([expect.objectContaining({ status: 'running', owner: null, gpu: 'unknown' })]);
  });

  describe("the gateway's ContainerCreateAuthorized: the verified owner, in whichever order it lands", () => {
    // bob's raw-socket-style claim (a label naming him) on a container alice created through her socket.
    const claimedByBob = ContainerDescribed({
      ...ref,
      describedFrom: 'inspect',
      ...description,
      owner: { user: 'bob', rule: 'ds01_label', evidence: 'ds01.user=bob', verified: false },
    });
    const authorized = ContainerCreateAuthorized({
      containerId: ID,
      user: 'alice',
      socket: { kind: 'user', user: 'alice', path: '/run/ds01/users/alice/docker.sock' },
      interface: 'docker',
      name: 'box',
      rewritten: [],
      devices: [],
    });
    const OWNER = 'name, status, owner, owner_rule, owner_verified, interface';
    const verified = { name: 'box', owner: 'alice', owner_rule: 'gateway', owner_verified: 1 };

    it.each([
      ['authorized first (the gateway won the race)', [authorized, created, claimedByBob, started]],
      ['authorized after created', [created, authorized, claimedByBob, started]],
      ['authorized after described and started', [created, claimedByBob, started, authorized]],
    ])('%s', (_order, events) => {
      const rows = projectionSpec(containersProjection)
        .given(...events.slice(0, -1))
        .when(events.at(-1)!)
        .rows(`SELECT ${OWNER} FROM containers`);
      expect(rows).toEqual([{ ...verified, status: 'running', interface: 'other' }]);
    });

    it('authorized, not yet seen by the watcher: the row has its verified owner already', () => {
      const rows = projectionSpec(containersProjection)
        .when(authorized)
        .rows(`SELECT ${OWNER} FROM containers`);
      expect(rows).toEqual([{ ...verified, status: 'created', interface: null }]);
    });

    it('through the admin socket (no user): the claim stands, unverified', () => {
      const byAdmin = ContainerCreateAuthorized({
        ...authorized.data,
        user: null,
        socket: { kind: 'admin', path: '/run/ds01/admin.sock' },
      });
      const rows = projectionSpec(containersProjection)
        .given(created, claimedByBob)
        .when(byAdmin)
        .rows(`SELECT ${OWNER} FROM containers`);
      expect(rows).toEqual([
        {
          name: 'box',
          status: 'created',
          owner: 'bob',
          owner_rule: 'ds01_label',
          owner_verified: 0,
          interface: 'other',
        },
      ]);
    });
  });
});
