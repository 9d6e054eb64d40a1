import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanupTestRun, createTestContainer, describeWithDocker } from '../support/docker.ts';
import { waitUntil } from '../support/waitUntil.ts';
import { LifecycleHarness } from './lifecycleHarness.ts';

const run = promisify(execFile);
const RUN_ENFORCER = fileURLToPath(new URL('./runEnforcer.ts', import.meta.url));
const GRACE_S = 4;
const WARN_M = 0.02;

/**
 * The enforcer killed with SIGKILL in the middle of a retirement (its `docker stop` waiting out the
 * grace of a container that ignores SIGTERM), then started again: it finds the attempt it had in
 * hand and records what it did; Docker is not told to stop the container a second time once it did.
 */
describeWithDocker('enforcer: killed -9 mid-retirement, resumed without acting twice', (td) => {
  let h: LifecycleHarness;
  const children: ChildProcess[] = [];
  const docker = async (...args: string[]) =>
    (await run('docker', args, { env: { ...process.env, DOCKER_HOST: td.host } })).stdout.trim();

  beforeAll(async () => {
    // Real time, short rules: no start grace, idle after 3.6 s, warned 1.2 s before.
    h = new LifecycleHarness(td.host, { warnings_m: [WARN_M] }, (yaml) =>
      yaml
        .replace(/grace_period_m: 30/, 'grace_period_m: 0')
        .replace(
          /docker: \{ idle_timeout_h: 0\.5, max_runtime_h: 48, sigterm_grace_s: 60 \}/,
          `docker: { idle_timeout_h: 0.001, max_runtime_h: 48, sigterm_grace_s: ${GRACE_S} }`,
        ),
    );
    await h.start();
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await h?.stop();
    await cleanupTestRun(td);
  });

  const dockerEvents = async (id: string, since: number) =>
    (
      await docker(
        'events',
        '--since',
        String(since),
        '--until',
        String(Math.ceil(Date.now() / 1000) + 1),
        '--filter',
        `container=${id}`,
        '--format',
        '{{.Action}} {{index .Actor.Attributes "signal"}}',
      )
    )
      .split('\n')
      .map((line) => line.trim());

  function startEnforcer(): ChildProcess {
    const config = JSON.stringify({
      warnings_m: [WARN_M],
      retry_first_s: 1,
      retry_max_s: 2,
      docker_timeout_s: 3,
    });
    const child = spawn(process.execPath, [RUN_ENFORCER, h.dataDir, td.host, '0', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    return child;
  }

  it('records one retirement, and the container stopped once', async () => {
    // PID 1 `sleep` ignores SIGTERM: `docker stop` waits the whole grace, then SIGKILLs it.
    const container = await createTestContainer(td, { start: true, cmd: ['sleep', '3600'] });
    const id = container.id;
    const t0 = await h.started(id);
    await h.windows(id, t0, 0, 10, 0.1);
    const since = Math.floor(Date.now() / 1000) - 1;
    // The lifecycle's ticks on the real clock, until the owner is warned.
    await waitUntil(
      async () => {
        h.clock = new Date();
        await h.catchUp();
        await h.ticker.runOnce();
        await h.catchUp();
        return (h.lifecycle.load(id)?.state.pending?.warnedLeads.length ?? 0) > 0;
      },
      'the retirement decided and warned',
      20_000,
    );
    expect(h.lifecycle.load(id)?.state.pending).toMatchObject({ reason: 'idle', graceSeconds: GRACE_S });

    const first = startEnforcer();
    await waitUntil(
      async () => (await h.lifecycleTypes(id)).includes('RetirementStarted'),
      'RetirementStarted',
      30_000,
    );
    // Its `docker stop` is under way (sent, waiting out the grace): kill it there.
    await waitUntil(
      async () => (await dockerEvents(id, since)).some((e) => e.startsWith('kill')),
      'the SIGTERM',
      10_000,
    );
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    expect(await h.lifecycleTypes(id)).not.toContain('ContainerRetired');

    startEnforcer();
    await waitUntil(
      async () => (await h.lifecycleTypes(id)).includes('ContainerRetired'),
      'ContainerRetired',
      30_000,
    );

    const types = await h.lifecycleTypes(id);
    expect(types.filter((t) => t === 'ContainerRetired')).toHaveLength(1);
    const retired = (await h.stream(`lifecycle-${id}`)).find((e) => e.type === 'ContainerRetired')!;
    expect(retired.data).toMatchObject({ reason: 'idle', action: 'stop' });
    expect(['stopped', 'already_stopped']).toContain((retired.data as { outcome: string }).outcome);
    // Either the first stop took effect (dockerd finished it after the client went) and the restart
    // records it, or it had not, and the second attempt stops it: one die either way.
    expect(await docker('inspect', '-f', '{{.State.Running}}', id)).toBe('false');
    const actions = await dockerEvents(id, since);
    expect(actions.filter((a) => a === 'die')).toHaveLength(1);
    expect(actions.filter((a) => a === 'kill 15')).toHaveLength(1);
    // dockerd finished the stop the killed enforcer had asked for; the new one recorded it.
    expect(types.filter((t) => t === 'RetirementStarted')).toHaveLength(1);
    expect(retired.data).toMatchObject({ outcome: 'stopped', resumed: true });
    process.stderr.write(`lifecycle stream: ${types.join(', ')}; docker: ${actions.join(', ')}\n`);
  }, 90_000);
});
