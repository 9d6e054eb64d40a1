import { join } from 'node:path';
import { ContainerCreateAuthorized, ContainerDescribed, gpuPoolStream } from '@ds01/domain';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProjectionRunner } from '../../runner/projectionRunner.ts';
import { projectionSpec } from '../../runner/projectionSpec.ts';
import { openProjectionsDb } from '../../runner/projectionsDb.ts';
import { ReadModel } from '../../runner/readModel.ts';
import { newEvent, openStore, tempDir } from '../../runner/test/support.ts';
import { splitByDay, usageProjection } from '../usageProjection.ts';
import { type UsageQuery, usageReport, usageTotal } from '../usageQueries.ts';
import { CONTAINER_A, CONTAINER_B, granted, HOST, history } from './usageHistory.ts';

const query = (over: Partial<UsageQuery>): UsageQuery => ({
  fromDay: '2026-03-01',
  toDay: '2026-03-02',
  by: 'user',
  intensity: [
    { from: '2026-01-01', gPerKwh: 400 },
    { from: '2026-03-02', gPerKwh: 200 },
  ],
  now: new Date('2026-03-02T17:00:00.000Z'),
  ...over,
});

describe('usage projection', () => {
  let dir: ReturnType<typeof tempDir>;
  let readModel: ReadModel;

  beforeEach(async () => {
    dir = tempDir('ds01-usage-');
    const store = openStore(dir.path);
    for (const { stream, event } of history) await store.append(stream, [newEvent(event)]);
    const db = openProjectionsDb(join(dir.path, 'projections.db'));
    const runner = new ProjectionRunner({ store, db, projections: [usageProjection] });
    runner.prepare();
    await runner.catchUp();
    db.close();
    await store.close();
    readModel = new ReadModel(join(dir.path, 'projections.db'));
  });

  afterEach(() => {
    readModel.close();
    dir.remove();
  });

  it('by user: GPU-hours allocated (open ones up to now), used, waste, unknown, energy, CO2 per day of use', () => {
    const rows = usageReport(readModel, query({}));
    expect(rows.map((r) => r.key)).toEqual(['', 'alice', 'bob']);
    const [free, alice, bob] = rows;
    expect(free).toMatchObject({ gpuHoursAllocated: 0, efficiency: null, containers: 0 });
    expect(free!.energyKwh).toBeCloseTo(18_000 / 3.6e6, 9);
    expect(free!.co2Kg).toBeCloseTo(0.001, 9); // 0.005 kWh × 200 g

    expect(alice!.gpuHoursAllocated).toBeCloseTo(4, 9);
    expect(alice!.gpuHoursUsed).toBeCloseTo(153 / 3600, 9);
    expect(alice!.efficiency).toBeCloseTo(153 / 3600 / 4, 9);
    expect(alice!.wasteGpuHours).toBeCloseTo(300 / 3600, 9);
    expect(alice!.unknownGpuHours).toBe(0);
    expect(alice!.energyKwh).toBeCloseTo(120_000 / 3.6e6, 9);
    expect(alice!.co2Kg).toBeCloseTo((120_000 / 3.6e6) * 0.4, 9); // its day is 03-01: 400 g/kWh
    expect(alice).toMatchObject({ grants: 1, denials: 0 });

    expect(bob!.gpuHoursAllocated).toBeCloseTo(3, 9);
    expect(bob!.gpuHoursUsed).toBeCloseTo((300 * (3 / 7) * 0.8) / 3600, 9);
    expect(bob!.unknownGpuHours).toBeCloseTo((300 * (3 / 7)) / 3600, 9);
    expect(bob!.wasteGpuHours).toBe(0);
    expect(bob!.co2Kg).toBeCloseTo(0.002, 9);
    expect(bob).toMatchObject({ grants: 1, denials: 1 });
  });

  it('by day, by group, by week and month; filters by user and group', () => {
    const byDay = usageReport(readModel, query({ by: 'day' }));
    expect(byDay.map((r) => [r.key, round(r.gpuHoursAllocated)])).toEqual([
      ['2026-03-01', 2],
      ['2026-03-02', 5],
    ]);
    const byGroup = usageReport(readModel, query({ by: 'group' }));
    expect(byGroup.map((r) => [r.key, round(r.gpuHoursAllocated)])).toEqual([
      ['', 0],
      ['staff', 3],
      ['students', 4],
    ]);
    // 2026-03-01 is a Sunday: its ISO week began on Monday 02-23; 03-02 is the next Monday.
    const byWeek = usageReport(readModel, query({ by: 'week' }));
    expect(byWeek.map((r) => [r.key, round(r.gpuHoursAllocated)])).toEqual([
      ['2026-02-23', 2],
      ['2026-03-02', 5],
    ]);
    expect(usageReport(readModel, query({ by: 'month' })).map((r) => r.key)).toEqual(['2026-03']);
    expect(
      usageReport(readModel, query({ user: 'bob', by: 'day' })).map((r) => [
        r.key,
        round(r.gpuHoursAllocated),
      ]),
    ).toEqual([['2026-03-02', 3]]);
    expect(usageReport(readModel, query({ group: 'students' })).map((r) => r.key)).toEqual(['alice']);
  });

  it('a period clips open allocations and days outside it', () => {
    const firstDay = usageReport(readModel, query({ toDay: '2026-03-01' }));
    expect(firstDay.map((r) => r.key)).toEqual(['alice']);
    expect(firstDay[0]!.gpuHoursAllocated).toBeCloseTo(2, 9);
    const total = usageTotal(
      usageReport(readModel, query({ fromDay: null, now: new Date('2026-03-02T12:00:00Z') })),
    );
    expect(total.gpuHoursAllocated).toBeCloseTo(4 + 2 * (3 / 7), 9);
    expect(total.denials).toBe(1);
  });
});

describe('usage projection, event by event', () => {
  it('a grant of a slot never released closes the earlier grant at the new one', () => {
    const rows = projectionSpec(usageProjection)
      .given({
        ...granted('alice', '0', 'full', 1, '2026-03-01T10:00:00.000Z', CONTAINER_A),
        stream: gpuPoolStream(HOST),
      })
      .when({
        ...granted('bob', '0', 'full', 1, '2026-03-01T11:00:00.000Z', CONTAINER_B),
        stream: gpuPoolStream(HOST),
      })
      .rows('SELECT day, user, allocated_gpu_s, grants FROM usage_daily ORDER BY user');
    expect(rows).toEqual([
      { day: '2026-03-01', user: 'alice', allocated_gpu_s: 3600, grants: 1 },
      { day: '2026-03-01', user: 'bob', allocated_gpu_s: 0, grants: 1 },
    ]);
  });

  describe('a container counts once, for its verified owner, whichever of the records comes first', () => {
    // alice's claim (a compose dir of hers) on a container bob created through his own socket.
    const claimedByAlice = ContainerDescribed({
      containerId: CONTAINER_A,
      name: 'box',
      observation: 'observed',
      dockerEvent: null,
      describedFrom: 'inspect',
      image: 'busybox',
      imageId: 'sha256:1',
      createdAt: '2026-03-01T10:00:00.000Z',
      owner: {
        user: 'alice',
        rule: 'compose_dir',
        evidence: 'com.docker.compose.project.working_dir=/home/alice/p',
        verified: false,
      },
      interface: 'other',
      type: 'compose',
      managed: false,
      infrastructure: false,
      gpu: { access: 'none' },
      cgroupParent: null,
      limits: null,
      labels: {},
    });
    const throughBobsSocket = ContainerCreateAuthorized({
      containerId: CONTAINER_A,
      user: 'bob',
      socket: { kind: 'user', user: 'bob', path: '/run/ds01/users/bob/docker.sock' },
      interface: 'docker',
      name: 'box',
      rewritten: [],
      devices: [],
    });
    const counts = 'SELECT day, user, containers FROM usage_daily WHERE containers <> 0 ORDER BY user';

    it.each([
      ['authorized first (the gateway won the race)', [throughBobsSocket, claimedByAlice]],
      ['described first: the count moves from the claim', [claimedByAlice, throughBobsSocket]],
    ])('%s', (_order, events) => {
      const rows = projectionSpec(usageProjection).given(events[0]!).when(events[1]!).rows(counts);
      expect(rows).toEqual([{ day: '2026-03-01', user: 'bob', containers: 1 }]);
    });

    it('a second description (a reconciliation) does not count it again', () => {
      const rows = projectionSpec(usageProjection)
        .given(claimedByAlice, throughBobsSocket)
        .when(claimedByAlice)
        .rows(counts);
      expect(rows).toEqual([{ day: '2026-03-01', user: 'bob', containers: 1 }]);
    });

    it('created through the admin socket (nobody in particular): the claim stands', () => {
      const byAdmin = ContainerCreateAuthorized({
        ...throughBobsSocket.data,
        user: null,
        socket: { kind: 'admin', path: '/run/ds01/admin.sock' },
      });
      for (const order of [
        [byAdmin, claimedByAlice],
        [claimedByAlice, byAdmin],
      ]) {
        const rows = projectionSpec(usageProjection).given(order[0]!).when(order[1]!).rows(counts);
        expect(rows).toEqual([{ day: '2026-03-01', user: 'alice', containers: 1 }]);
      }
    });

    it('authorized, never described: not counted yet', () => {
      expect(projectionSpec(usageProjection).when(throughBobsSocket).rows(counts)).toEqual([]);
    });
  });

  it('splits an interval at UTC midnights', () => {
    expect(splitByDay(Date.parse('2026-03-01T23:00:00Z'), Date.parse('2026-03-03T01:00:00Z'))).toEqual([
      { day: '2026-03-01', seconds: 3600 },
      { day: '2026-03-02', seconds: 86_400 },
      { day: '2026-03-03', seconds: 3600 },
    ]);
  });
});

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
