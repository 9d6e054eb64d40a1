import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connectDocker, statContainerPath } from '@ds01/host';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  cleanupTestRun,
  createTestContainer,
  describeWithDocker,
  TEST_RUN_LABEL,
  uniqueName,
} from '../support/docker.ts';
import { LifecycleHarness } from './lifecycleHarness.ts';

const run = promisify(execFile);

/**
 * Idle retirement end to end on the real test dockerd: the docker watcher records the containers,
 * usage windows are appended as the samplers would, and the clock of the ticker and the enforcer
 * moves by the test (no real minutes pass). Rules: the lab's example config (raw docker: idle
 * 30 minutes after a 30-minute start grace; DS01's containers: the owner's idle_timeout_h).
 */
describeWithDocker('lifecycle: idle containers are warned, then retired', (td) => {
  let h: LifecycleHarness;
  const docker = async (...args: string[]) =>
    (await run('docker', args, { env: { ...process.env, DOCKER_HOST: td.host } })).stdout.trim();
  const running = async (id: string) => (await docker('inspect', '-f', '{{.State.Running}}', id)) === 'true';

  beforeAll(async () => {
    h = new LifecycleHarness(td.host);
    await h.start();
  });
  afterAll(async () => {
    await h?.stop();
    await cleanupTestRun(td);
  });

  it('idle containers of raw docker, compose and DS01 are retired; a busy one is not', async () => {
    // Raw docker, as a user would type it: nothing of DS01 on it.
    const raw = await docker(
      'run',
      '-d',
      '--name',
      uniqueName(td, 'raw'),
      '--label',
      `${TEST_RUN_LABEL}=${td.runId}`,
      td.image,
      'sh',
      '-c',
      'trap "exit 0" TERM; while true; do sleep 1; done',
    );
    const managed = (
      await createTestContainer(td, {
        start: true,
        labels: { 'ds01.managed': 'true', 'ds01.user': 'ds01t-alice' },
      })
    ).id;
    // What `docker compose up` labels its containers with (its type's rules: container_types.compose).
    const compose = (
      await createTestContainer(td, {
        start: true,
        labels: { 'com.docker.compose.project': 'proj', 'com.docker.compose.service': 'train' },
      })
    ).id;
    const busy = (await createTestContainer(td, { start: true })).id;
    const starts = await Promise.all([raw, managed, compose, busy].map((id) => h.started(id)));
    const t0 = new Date(Math.max(...starts.map((d) => d.getTime())));
    for (const [id, cpu] of [
      [raw, 0.1],
      [managed, 0.1],
      [compose, 0.1],
      [busy, 90],
    ] as const)
      await h.windows(id, t0, 0, 65, cpu);

    await h.at(t0, 10); // idle recorded, retirement decided: due 30 min after the 30-minute grace
    for (const id of [raw, managed, compose]) {
      expect(await h.lifecycleTypes(id)).toEqual(['ContainerIdle', 'RetirementScheduled']);
      expect(h.lifecycle.load(id)?.state.pending).toMatchObject({ reason: 'idle', action: 'stop' });
    }
    // The busy one has only its max runtime pending (48 h for raw docker), never an idle one.
    expect(h.lifecycle.load(busy)?.state.pending).toMatchObject({ reason: 'max_runtime' });

    await h.at(t0, 45); // 15 minutes before
    await h.at(t0, 55); // 5 minutes before
    expect(await running(raw)).toBe(true);
    await h.at(t0, 60); // due: the enforcer stops them

    for (const id of [raw, managed, compose]) {
      expect(await h.lifecycleTypes(id)).toEqual([
        'ContainerIdle',
        'RetirementScheduled',
        'RetirementWarned',
        'RetirementWarned',
        'RetirementStarted',
        'ContainerRetired',
      ]);
      const retired = (await h.stream(`lifecycle-${id}`)).at(-1)!;
      expect(retired.data).toMatchObject({ reason: 'idle', outcome: 'stopped', resumed: false });
      expect(await running(id)).toBe(false);
    }
    expect(await running(busy)).toBe(true);
    expect(await h.lifecycleTypes(busy)).toEqual(['RetirementScheduled']);
  });

  it('/workspace/.keep-alive in the container (read through the archive API) holds off idle retirement', async () => {
    const kept = await createTestContainer(td, {
      start: true,
      cmd: [
        'sh',
        '-c',
        'mkdir -p /workspace && touch /workspace/.keep-alive; trap "exit 0" TERM; while true; do sleep 1; done',
      ],
    });
    const t0 = await h.started(kept.id);
    await h.windows(kept.id, t0, 0, 65, 0.1);
    for (const minute of [10, 45, 61]) await h.at(t0, minute);
    const state = h.lifecycle.load(kept.id)!.state;
    expect(state.idleRecordedSince).not.toBeNull();
    expect(state.pending).toMatchObject({ reason: 'max_runtime' });
    expect((await kept.inspect()).State.Running).toBe(true);
    // Read, not guessed: a failed read would also hold retirement off (unknown is kept), so check both.
    expect(h.logs.filter((l) => l.msg.includes('keep-alive'))).toEqual([]);
    const docker = connectDocker(td.host);
    const stat = await statContainerPath(docker, kept.id, '/workspace/.keep-alive', 5000);
    expect(stat?.size).toBe(0);
    expect(Math.abs(Date.parse(stat!.modifiedAt) - t0.getTime())).toBeLessThan(60_000);
    expect(await statContainerPath(docker, kept.id, '/workspace/nothing-here', 5000)).toBeUndefined();
  });

  it('a container already gone when the enforcer acts is recorded (already_gone), not an error', async () => {
    const gone = (await createTestContainer(td, { start: true })).id;
    const t0 = await h.started(gone);
    await h.windows(gone, t0, 0, 65, 0.1);
    for (const minute of [10, 45, 55]) await h.at(t0, minute);
    // Due now; the container is removed behind DS01's back before the enforcer looks (the read
    // model has not seen the removal: nothing cancels the decision first).
    h.clock = new Date(t0.getTime() + 60 * 60_000);
    await docker('rm', '-f', gone);
    await h.enforcer.runOnce();
    const last = (await h.stream(`lifecycle-${gone}`)).at(-1)!;
    expect(last.type).toBe('ContainerRetired');
    expect(last.data).toMatchObject({ outcome: 'already_gone', resumed: false });
    expect(h.logs.filter((l) => l.level === 'error')).toEqual([]);
  });
});
