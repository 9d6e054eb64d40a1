import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker } from '../support/docker.ts';
import { runDs01 } from '../support/ds01d.ts';
import type { TestUser } from '../support/users.ts';
import { waitUntil } from '../support/waitUntil.ts';
import { type GatewayLab, rawRequest, removeRunResources, startGatewayLab } from './gatewayLab.ts';

interface Row {
  key: string;
  containers: number;
}
interface Answer {
  user: string | null;
  rows: Row[];
  total: Row;
}

/**
 * `ds01 usage` for an ordinary user goes through their gateway socket (GET /ds01/v1/usage): their
 * own usage only, another user's refused and recorded; root reads everyone's from the store.
 */
describeWithDocker('usage through the gateway', (td) => {
  let lab: GatewayLab;
  let alice: TestUser;
  let bob: TestUser;
  const prefix = `ds01t-${td.runId}-usage`;
  const ds01 = join(process.cwd(), 'packages', 'cli', 'bin', 'ds01.js');
  const usageAs = async (user: TestUser, ...args: string[]) => lab.as(user, ds01, ['usage', ...args]);
  const jsonAs = async (user: TestUser, ...args: string[]): Promise<Answer> => {
    const run = await usageAs(user, '--json', ...args);
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as Answer;
  };

  beforeAll(async () => {
    lab = await startGatewayLab(td, ['alice', 'bob']);
    alice = lab.users['alice']!;
    bob = lab.users['bob']!;
    for (const user of [alice, bob]) {
      const run = await lab.as(user, 'docker', [
        'run',
        '-d',
        '--name',
        `${prefix}-${user.name}`,
        td.image,
        'sleep',
        '300',
      ]);
      expect(run.code, run.stderr).toBe(0);
    }
    // Both containers described and counted for their verified owners in the daemon's read model.
    await waitUntil(
      async () => {
        const root = await runDs01(['usage', '--json', '--period', '1d'], lab);
        const rows = root.code === 0 ? (JSON.parse(root.stdout) as Answer).rows : [];
        return [alice, bob].every((u) => rows.find((r) => r.key === u.name)?.containers === 1);
      },
      "alice's and bob's containers counted in root's ds01 usage",
      30_000,
    );
    await waitUntil(
      async () => (await jsonAs(alice, '--period', '1d')).rows.some((r) => r.containers === 1),
      "alice's container in the usage the gateway serves her",
      30_000,
    );
  });
  afterAll(async () => {
    await lab?.stop();
    await removeRunResources(td, prefix);
  });

  it('alice sees her own rows only, in every grouping; table and csv too', async () => {
    const own = await jsonAs(alice, '--period', '1d');
    expect(own.rows).toEqual([expect.objectContaining({ key: alice.name, containers: 1 })]);
    expect(own.total.containers).toBe(1);
    const byDay = await jsonAs(alice, '--period', '1d', '--by', 'day');
    expect(byDay.total.containers).toBe(1);
    const table = await usageAs(alice, '--period', '1d');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain(alice.name);
    expect(table.stdout).not.toContain(bob.name);
    const csv = await usageAs(alice, '--period', '1d', '--format', 'csv');
    expect(csv.stdout.split('\n')[0]).toMatch(/^user,gpuHoursAllocated,/);
    expect(csv.stdout).toContain(`${alice.name},`);
    expect(csv.stdout).not.toContain(bob.name);
  });

  it('--user naming bob is refused with a hint, exit 1, and recorded as AccessDenied', async () => {
    const refused = await usageAs(alice, '--user', bob.name);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(`usage of ${bob.name}: your socket answers for ${alice.name} only`);
    expect(refused.stderr).toMatch(/hint: an ordinary user sees their own usage/);
    // Naming herself is fine.
    expect((await jsonAs(alice, '--user', alice.name, '--period', '1d')).total.containers).toBe(1);
    await waitUntil(
      async () =>
        (await lab.events('AccessDenied')).some(
          (e) =>
            (e.data as { user: string; rule: string; target: string | null }).rule === 'usage-own-only' &&
            (e.data as { user: string }).user === alice.name &&
            (e.data as { target: string | null }).target === bob.name,
        ),
      "alice's refused usage request as an AccessDenied event",
      10_000,
    );
  });

  it('root sees everyone: from the store, and on the admin socket', async () => {
    const root = await runDs01(['usage', '--json', '--period', '1d'], lab);
    expect(root.code, root.stderr).toBe(0);
    const keys = (JSON.parse(root.stdout) as Answer).rows.map((r) => r.key);
    expect(keys).toEqual(expect.arrayContaining([alice.name, bob.name]));
    const admin = await rawRequest(lab.adminSocket, 'GET', '/ds01/v1/usage?period=1d&by=user');
    expect(admin.status, admin.body).toBe(200);
    const adminAnswer = JSON.parse(admin.body) as Answer;
    expect(adminAnswer.rows.map((r) => r.key)).toEqual(expect.arrayContaining([alice.name, bob.name]));
    // The same document as the admin's CLI prints (one query, one shape).
    expect(Object.keys(adminAnswer).sort()).toEqual(Object.keys(JSON.parse(root.stdout)).sort());
  });

  it('the API refuses a period or grouping it cannot read, naming it', async () => {
    const period = await rawRequest(lab.socketOf(alice), 'GET', '/ds01/v1/usage?period=fortnight');
    expect(period.status).toBe(400);
    expect(JSON.parse(period.body).message).toContain("'fortnight'");
    const by = await rawRequest(lab.socketOf(alice), 'GET', '/ds01/v1/usage?by=planet');
    expect(by.status).toBe(400);
    expect(JSON.parse(by.body).message).toContain('by=planet');
    const group = await rawRequest(lab.socketOf(alice), 'GET', '/ds01/v1/usage?group=ds01t-nobody');
    expect(group.status).toBe(403);
  });
});
