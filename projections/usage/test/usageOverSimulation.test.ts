import { join } from 'node:path';
import { appendSimulation, simulateLab } from '@ds01/simulation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectionRunner } from '../../runner/projectionRunner.ts';
import { openProjectionsDb } from '../../runner/projectionsDb.ts';
import { ReadModel } from '../../runner/readModel.ts';
import { openStore, tempDir } from '../../runner/test/support.ts';
import { usageProjection } from '../usageProjection.ts';
import { scopeToCaller, usageReport } from '../usageQueries.ts';

const OPTIONS = { users: 12, days: 4, seed: 11, start: new Date('2026-03-02T00:00:00Z'), host: 'sim' };
const NOW = new Date('2026-03-10T00:00:00Z');

/**
 * The same sums worked out straight from the generated events, without the projection: grants paired
 * with their releases (or `NOW`), windows' activity × share, denials counted.
 */
function expected() {
  const perUser = new Map<
    string,
    { allocated: number; used: number; idle: number; denials: number; energy: number }
  >();
  const row = (user: string) => {
    const r = perUser.get(user) ?? { allocated: 0, used: 0, idle: 0, denials: 0, energy: 0 };
    perUser.set(user, r);
    return r;
  };
  const open = new Map<string, { user: string; since: number; eq: number }>();
  for (const batch of simulateLab(OPTIONS)) {
    for (const e of batch.events) {
      // biome-ignore lint/suspicious/noExplicitAny: the events' data, read as the catalog defines it
      const d = e.data as Record<string, any>;
      if (e.type === 'GpuAllocated')
        open.set(d.slot, { user: d.user, since: Date.parse(d.since), eq: d.gpuEquivalents });
      if (e.type === 'GpuReleased') {
        const o = open.get(d.slot)!;
        row(o.user).allocated += ((Date.parse(d.at) - o.since) / 1000) * o.eq;
        open.delete(d.slot);
      }
      if (e.type === 'GpuAllocationDenied') row(d.user).denials++;
      if (e.type === 'GpuUsageWindowRecorded') {
        const user = d.holder.user ?? '';
        const activity = d.smActive.mean;
        row(user).energy += d.energyJoules;
        if (user === '') continue;
        row(user).used += 300 * (1 / 7) * activity;
        if (activity < 0.05) row(user).idle += 300 / 7;
      }
    }
  }
  for (const o of open.values()) row(o.user).allocated += ((NOW.getTime() - o.since) / 1000) * o.eq;
  return perUser;
}

describe('usage analytics over a generated history', () => {
  let dir: ReturnType<typeof tempDir>;
  let readModel: ReadModel;

  beforeAll(async () => {
    dir = tempDir('ds01-usage-sim-');
    const store = openStore(dir.path);
    await appendSimulation(store, OPTIONS);
    const db = openProjectionsDb(join(dir.path, 'projections.db'));
    const runner = new ProjectionRunner({ store, db, projections: [usageProjection] });
    runner.prepare();
    await runner.catchUp();
    db.close();
    await store.close();
    readModel = new ReadModel(join(dir.path, 'projections.db'));
  });
  afterAll(() => {
    readModel.close();
    dir.remove();
  });

  it('equals the sums worked out from the events themselves, for every user', () => {
    const rows = usageReport(readModel, {
      fromDay: null,
      toDay: '2026-03-10',
      by: 'user',
      intensity: [],
      now: NOW,
    });
    const want = expected();
    expect(rows.map((r) => r.key).sort()).toEqual([...want.keys()].sort());
    for (const r of rows) {
      const w = want.get(r.key)!;
      expect(r.gpuHoursAllocated, r.key).toBeCloseTo(w.allocated / 3600, 6);
      expect(r.gpuHoursUsed, r.key).toBeCloseTo(w.used / 3600, 6);
      expect(r.wasteGpuHours, r.key).toBeCloseTo(w.idle / 3600, 6);
      expect(r.energyKwh, r.key).toBeCloseTo(w.energy / 3.6e6, 6);
      expect(r.denials, r.key).toBe(w.denials);
    }
  });

  it('an ordinary user gets their own rows only, whatever they ask; an admin everyone', () => {
    const query = { fromDay: null, toDay: '2026-03-10', by: 'user' as const, intensity: [], now: NOW };
    const [someone, other] = usageReport(readModel, query).filter((r) => r.key !== '');
    const asked = { ...query, user: other!.key };
    const own = usageReport(readModel, scopeToCaller({ user: someone!.key, admin: false }, asked));
    expect(own).toEqual([someone]);
    const byDay = usageReport(
      readModel,
      scopeToCaller({ user: someone!.key, admin: false }, { ...query, by: 'day' }),
    );
    expect(byDay.reduce((sum, r) => sum + r.gpuHoursAllocated, 0)).toBeCloseTo(someone!.gpuHoursAllocated, 6);
    expect(scopeToCaller({ user: 'root', admin: true }, query)).toBe(query);
  });
});
