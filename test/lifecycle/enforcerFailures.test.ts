import { DEFAULT_LIFECYCLE_CONFIG } from '@ds01/config';
import { Enforcer } from '@ds01/enforcer';
import { connectDocker } from '@ds01/host';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanupTestRun, createTestContainer, describeWithDocker } from '../support/docker.ts';
import { HOST, LifecycleHarness } from './lifecycleHarness.ts';

/**
 * The enforcer when Docker cannot be reached: the attempt is recorded failed with its next try
 * (retry_first_s later), and tried again then; in dry run it says what it would do and records
 * nothing.
 */
describeWithDocker('enforcer: retries, dry run', (td) => {
  let h: LifecycleHarness;
  const lines: string[] = [];
  const logger = {
    debug: () => {},
    info: (_o: object, msg: string) => lines.push(msg),
    warn: (_o: object, msg: string) => lines.push(msg),
    error: (_o: object, msg: string) => lines.push(msg),
  };
  const enforcerWith = (options: { dockerHost?: string; dryRun?: boolean }) =>
    new Enforcer({
      store: h.store,
      lifecycle: h.lifecycle,
      connection: connectDocker(options.dockerHost ?? td.host),
      host: HOST,
      config: { ...DEFAULT_LIFECYCLE_CONFIG, dry_run: options.dryRun ?? false },
      now: () => h.clock,
      logger,
    });

  beforeAll(async () => {
    h = new LifecycleHarness(td.host);
    await h.start();
  });
  afterAll(async () => {
    await h?.stop();
    await cleanupTestRun(td);
  });

  /** A running container whose idle retirement is due at minute 60 (warned at 45 and 55). */
  async function dueContainer(): Promise<{ id: string; t0: Date }> {
    const id = (await createTestContainer(td, { start: true })).id;
    const t0 = await h.started(id);
    await h.windows(id, t0, 0, 65, 0.1);
    for (const minute of [10, 45, 55]) {
      h.clock = new Date(t0.getTime() + minute * 60_000);
      await h.catchUp();
      await h.ticker.runOnce();
    }
    h.clock = new Date(t0.getTime() + 60 * 60_000);
    await h.catchUp();
    return { id, t0 };
  }

  it('Docker unreachable: RetirementFailed with the next try, then retired on it', async () => {
    const { id } = await dueContainer();
    await enforcerWith({ dockerHost: 'unix:///run/ds01-test/no-such-docker.sock' }).runOnce();
    const failed = (await h.stream(`lifecycle-${id}`)).at(-1)!;
    expect(failed.type).toBe('RetirementFailed');
    expect(failed.data).toMatchObject({
      attempt: 1,
      error: expect.stringContaining('cannot reach the Docker daemon'),
    });
    const retryAt = Date.parse((failed.data as { retryAt: string }).retryAt);
    expect(retryAt - h.clock.getTime()).toBe(DEFAULT_LIFECYCLE_CONFIG.retry_first_s * 1000);

    await h.catchUp();
    await h.enforcer.runOnce(); // before its retry time: nothing
    expect((await h.stream(`lifecycle-${id}`)).at(-1)!.type).toBe('RetirementFailed');
    h.clock = new Date(retryAt);
    await h.enforcer.runOnce();
    const retired = (await h.stream(`lifecycle-${id}`)).slice(-2);
    expect(retired.map((e) => [e.type, (e.data as { attempt?: number }).attempt])).toEqual([
      ['RetirementStarted', 2],
      ['ContainerRetired', undefined],
    ]);
    expect(lines.some((l) => l.includes('failed (attempt 1); trying again at'))).toBe(true);
  });

  it('dry run: says once what it would do, records nothing, leaves the container running', async () => {
    const { id } = await dueContainer();
    const before = (await h.stream(`lifecycle-${id}`)).length;
    const dry = enforcerWith({ dryRun: true });
    await dry.runOnce();
    await dry.runOnce();
    expect(
      lines.filter((l) => l.startsWith(`dry run: would stop container ${id.slice(0, 12)}`)),
    ).toHaveLength(1);
    expect(await h.stream(`lifecycle-${id}`)).toHaveLength(before);
    expect((await td.docker.getContainer(id).inspect()).State.Running).toBe(true);
  });
});
