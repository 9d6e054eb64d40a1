import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newDataDir, runDs01 } from './support/ds01Cli.ts';

const EVENTS = join(import.meta.dirname, 'fixtures', 'ds01-infra', 'events.jsonl');

describe('ds01 import ds01-infra-events', () => {
  let dataDir: string;
  let first: Awaited<ReturnType<typeof runDs01>>;

  beforeAll(async () => {
    dataDir = newDataDir();
    first = await runDs01(dataDir, ['import', 'ds01-infra-events', EVENTS, '--json']);
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps every readable line, registers the users DS01 did not know, reports corrupt lines by number', () => {
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      lines: 12,
      appended: 12, // 10 lines kept + 2 users registered
      alreadyThere: 0,
      usersRegistered: 2,
      problems: [
        { line: 11, problem: expect.stringMatching(/^not JSON/) },
        { line: 12, problem: expect.stringMatching(/^not JSON/) },
      ],
    });
    expect(first.stderr).toContain(`${EVENTS}:11: not JSON`);
    expect(first.stderr).toContain('(skipped)');
  });

  it('a second import of the same file adds nothing', async () => {
    const again = await runDs01(dataDir, ['import', 'ds01-infra-events', EVENTS, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ appended: 0, alreadyThere: 10, usersRegistered: 0 });
  });

  it("the usage analytics reach back into ds01-infra's history", async () => {
    const usage = JSON.parse(
      (await runDs01(dataDir, ['usage', '--period', '2026-01-01..2026-01-31', '--json'])).stdout,
    ) as {
      rows: { key: string; gpuHoursAllocated: number; grants: number; denials: number; containers: number }[];
    };
    const carol = usage.rows.find((r) => r.key === 'carol')!;
    const dave = usage.rows.find((r) => r.key === 'dave')!;
    expect(carol.gpuHoursAllocated).toBeCloseTo(12, 9);
    expect(carol).toMatchObject({ grants: 1, containers: 1, denials: 0 });
    expect(dave.gpuHoursAllocated).toBeCloseTo(3601 / 3600 / 7, 9);
    expect(dave).toMatchObject({ grants: 1, denials: 1 });
    const byGroup = JSON.parse(
      (await runDs01(dataDir, ['usage', '--period', '2026-01-01..2026-01-31', '--by', 'group', '--json']))
        .stdout,
    ) as { rows: { key: string }[] };
    expect(byGroup.rows.map((r) => r.key)).toEqual(['researcher', 'student']);
  });

  it('the audit trail shows the imported history', async () => {
    const audit = await runDs01(dataDir, ['audit', '--user', 'dave']);
    expect(audit.stdout).toContain('ds01-infra maintenance.idle_kill of dave: container=nb._.2002');
    expect(audit.stdout).toContain('registered dave (group student, uid ?)');
  });

  it('a file that is not there is an error that says where ds01-infra keeps it', async () => {
    const missing = await runDs01(dataDir, ['import', 'ds01-infra-events', join(dataDir, 'nope.jsonl')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no such file');
    expect(missing.stderr).toContain('/var/log/ds01/events.jsonl');
  });
});
