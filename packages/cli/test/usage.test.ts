import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { eventCatalog } from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import { parsePeriod } from '@ds01/projections';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { history } from '../../../projections/usage/test/usageHistory.ts';
import { newDataDir, runDs01, userEvent } from './support/ds01Cli.ts';

const NOW = new Date('2026-03-02T17:00:00Z');

describe('--period', () => {
  it('reads the last N days, weeks, months, years (today included), all, and FROM..TO', () => {
    expect(parsePeriod('7d', NOW)).toEqual({ fromDay: '2026-02-24', toDay: '2026-03-02' });
    expect(parsePeriod('1d', NOW)).toEqual({ fromDay: '2026-03-02', toDay: '2026-03-02' });
    expect(parsePeriod('2w', NOW)).toEqual({ fromDay: '2026-02-17', toDay: '2026-03-02' });
    expect(parsePeriod('1m', NOW)).toEqual({ fromDay: '2026-02-03', toDay: '2026-03-02' });
    expect(parsePeriod('1y', NOW)).toEqual({ fromDay: '2025-03-03', toDay: '2026-03-02' });
    expect(parsePeriod('all', NOW)).toEqual({ fromDay: null, toDay: '2026-03-02' });
    expect(parsePeriod('2026-01-01..2026-01-31', NOW)).toEqual({
      fromDay: '2026-01-01',
      toDay: '2026-01-31',
    });
    expect(parsePeriod('2026-01-01..', NOW)).toEqual({ fromDay: '2026-01-01', toDay: '2026-03-02' });
  });

  it('refuses what it cannot read, saying what it takes', () => {
    for (const bad of ['7', 'week', '0d', '2026-02-30..2026-03-01', '2026-03-02..2026-03-01', '2026-1-1..']) {
      expect(() => parsePeriod(bad, NOW), bad).toThrow(/period/);
    }
  });
});

describe('ds01 usage', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = newDataDir();
    const store = new SqliteEventStore({ path: join(dataDir, 'events.db'), codec: eventCatalog });
    for (const { stream, event } of history) await store.append(stream, [userEvent(event)]);
    await store.close();
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints a table by user with a total line, and the same numbers as JSON and CSV', async () => {
    const period = ['--period', '2026-03-01..2026-03-02'];
    const table = await runDs01(dataDir, ['usage', ...period]);
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('Usage from 2026-03-01 to 2026-03-02 (UTC), by user');
    const lines = table.stdout.split('\n');
    expect(lines.find((l) => l.startsWith('alice'))).toMatch(/^alice\s+4\.0\s+0\.0\s+1%\s+0\.1/);
    expect(lines.find((l) => l.startsWith('(unattributed)'))).toBeDefined();
    expect(lines.find((l) => l.startsWith('total'))).toBeDefined();

    const json = JSON.parse((await runDs01(dataDir, ['usage', ...period, '--by', 'group', '--json'])).stdout);
    expect(json.rows.map((r: { key: string }) => r.key)).toEqual(['', 'staff', 'students']);
    expect(json.total.denials).toBe(1);

    const csv = (await runDs01(dataDir, ['usage', ...period, '--by', 'day', '--format', 'csv'])).stdout
      .trim()
      .split('\n');
    expect(csv[0]).toBe(
      'day,gpuHoursAllocated,gpuHoursUsed,efficiency,wasteGpuHours,unknownGpuHours,energyKwh,co2Kg,containers,grants,denials',
    );
    expect(csv[1]).toMatch(/^2026-03-01,2,/);
  });

  it('a period it cannot read is an error that says what it takes', async () => {
    const result = await runDs01(dataDir, ['usage', '--period', 'fortnight']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("--period 'fortnight' is not a period DS01 can read");
  });
});

describe('ds01 simulate', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = newDataDir();
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('fills an empty log with a history the usage report sums, and refuses a log that holds events', async () => {
    const simulated = await runDs01(dataDir, [
      'simulate',
      '--users',
      '15',
      '--days',
      '2',
      '--seed',
      '4',
      '--until',
      '2026-11-18',
      '--json',
    ]);
    expect(simulated.code).toBe(0);
    const summary = JSON.parse(simulated.stdout);
    expect(summary).toMatchObject({ users: 15, days: 2 });
    expect(summary.events).toBeGreaterThan(2 * 288 * 28);
    const usage = JSON.parse(
      (await runDs01(dataDir, ['usage', '--period', '2026-11-17..2026-11-18', '--json'])).stdout,
    );
    expect(usage.total.gpuHoursAllocated).toBeGreaterThan(0);
    expect(usage.total.energyKwh).toBeGreaterThan(0);
    const again = await runDs01(dataDir, ['simulate', '--users', '15', '--days', '2']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already holds events');
  });

  it('gives the same history for the same seed and --until on any day, and refuses a day that is not one', async () => {
    const reports: unknown[] = [];
    for (const dir of [newDataDir(), newDataDir()]) {
      const args = ['simulate', '--users', '20', '--days', '3', '--seed', '9', '--until', '2026-03-10'];
      const run = await runDs01(dir, [...args, '--json']);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ from: '2026-03-08', days: 3 });
      // A closed period: "all" would run on to now, which moves between the two runs.
      const usage = await runDs01(dir, [
        'usage',
        '--period',
        '2026-03-08..2026-03-10',
        '--by',
        'day',
        '--json',
      ]);
      reports.push(JSON.parse(usage.stdout));
      rmSync(dir, { recursive: true, force: true });
    }
    expect((reports[0] as { total: { gpuHoursAllocated: number } }).total.gpuHoursAllocated).toBeGreaterThan(
      0,
    );
    expect(reports[1]).toEqual(reports[0]);
    const empty = newDataDir();
    const future = await runDs01(empty, ['simulate', '--until', '2999-01-01']);
    expect(future.code).toBe(1);
    expect(future.stderr).toMatch(/--until 2999-01-01 is after today.*\nhint: leave out --until/);
    const noDay = await runDs01(empty, ['simulate', '--until', '2026-02-30']);
    expect(noDay.code).not.toBe(0);
    expect(noDay.stderr).toMatch(/'2026-02-30' is no day: 2026-02 has no day 30/);
    rmSync(empty, { recursive: true, force: true });
  });
});
