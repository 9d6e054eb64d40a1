import { describe, expect, it } from 'vitest';
import { newDataDir, runDs01 } from './support/ds01Cli.ts';

// `ds01 admin dashboard` (issue #12 item 5) on a simulated lab: real CLI processes, real read models.
describe('ds01 admin dashboard', () => {
  it('lists the running containers by user, every line within 80 columns', async () => {
    const dataDir = newDataDir();
    expect((await runDs01(dataDir, ['simulate', '--users', '10', '--days', '3'])).code).toBe(0);
    expect((await runDs01(dataDir, ['projections', 'rebuild', '--all'])).code).toBe(0);
    const json = await runDs01(dataDir, ['admin', 'dashboard', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const dashboard = JSON.parse(json.stdout) as { users: { containers: unknown[] }[] };
    expect(dashboard.users.length).toBeGreaterThan(0);
    const plain = await runDs01(dataDir, ['admin', 'dashboard']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toContain('USERS AND CONTAINERS');
    for (const line of plain.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
  }, 60_000);
});
