import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { userStream } from '@ds01/domain';
import { dbRows } from '@ds01/lifecycle';
import { AccountWatcher } from '@ds01/lifecycle-service';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanupTestRun, createTestContainer, describeWithDocker } from '../support/docker.ts';
import { ensureTestUser } from '../support/users.ts';
import { LifecycleHarness } from './lifecycleHarness.ts';

const run = promisify(execFile);

/**
 * A user whose account disappears from the host is recorded departed (getent says so), and after
 * the notice their containers are stopped and removed, the owner warned first. The notice is 0 h
 * here; the warnings are the harness's 15 and 5 minutes, on its clock. Only containers verified
 * theirs (created through their gateway socket) go: one that merely carries their name in a label,
 * which anyone may write, is another user's work until an admin says otherwise (issue 16).
 */
describeWithDocker('departed users: their containers go after the notice', (td) => {
  let h: LifecycleHarness;
  const name = `ds01t-lv${process.pid}`;

  beforeAll(async () => {
    h = new LifecycleHarness(td.host, { departed_notice_h: 0 });
    await h.start();
    await ensureTestUser(name);
  });
  afterAll(async () => {
    await run('userdel', ['-r', name]).catch(() => {});
    await h?.stop();
    await cleanupTestRun(td);
  });

  it('an account deleted from the host: departed, warned, then stopped and removed', async () => {
    const id = (await createTestContainer(td, { start: true, labels: { 'ds01.user': name } })).id;
    await h.started(id);
    await h.authorize(id, name);
    const claimed = (await createTestContainer(td, { start: true, labels: { 'ds01.user': name } })).id;
    await h.started(claimed);
    const accounts = new AccountWatcher({
      store: h.store,
      lifecycle: h.lifecycle,
      projections: dbRows(h.db),
      host: 'lifecycle-test',
      now: () => h.clock,
    });
    expect(await accounts.runOnce()).toEqual([]);

    await run('userdel', ['-r', name]);
    h.clock = new Date();
    expect(await accounts.runOnce()).toEqual([name]);
    const departure = [];
    for await (const e of h.store.readStream(userStream(name))) departure.push(e.type);
    expect(departure).toEqual(['UserDeparted']);

    const t0 = h.clock;
    await h.at(t0, 0);
    expect(h.lifecycle.load(id)?.state.pending).toMatchObject({
      reason: 'departed_user',
      action: 'stop_and_remove',
      warnedLeads: [15, 5],
    });
    await h.at(t0, 6);
    const last = (await h.stream(`lifecycle-${id}`)).at(-1)!;
    expect(last.type).toBe('ContainerRetired');
    expect(last.data).toMatchObject({ reason: 'departed_user', outcome: 'stopped_and_removed', user: name });
    await expect(td.docker.getContainer(id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    // The one that only claims the departed owner: left running, only the ordinary rules apply to it
    // (its max runtime, two days off), no departure.
    const claimedState = h.lifecycle.load(claimed)?.state;
    expect(claimedState).toMatchObject({ user: name, userVerified: false });
    expect(claimedState?.pending?.reason).toBe('max_runtime');
    expect((await td.docker.getContainer(claimed).inspect()).State.Running).toBe(true);
  });
});
