import { type ContainerEvent, type ContainerState, evolveContainerState } from '@ds01/domain';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  cleanupTestRun,
  describeWithDocker,
  TEST_RUN_LABEL,
  uniqueName,
} from '../../../test/support/docker.ts';
import { duplicates, hasAll, WatcherHarness } from './harness.ts';

describeWithDocker('docker watcher on a real dockerd', (td) => {
  let h: WatcherHarness;
  const label = `${TEST_RUN_LABEL}=${td.runId}`;

  beforeAll(async () => {
    h = new WatcherHarness(td.host);
    await h.startWatcher();
  });
  afterAll(async () => {
    await h?.close();
    await cleanupTestRun(td);
  });

  it("records a container's whole life from the docker CLI, each Docker event once", async () => {
    const name = uniqueName(td, 'life');
    const id = await h.docker(
      'create',
      '--name',
      name,
      '--label',
      label,
      td.image,
      'sh',
      '-c',
      'trap "exit 0" TERM; while true; do sleep 1; done',
    );
    await h.waitFor(id, hasAll('ContainerDescribed', 'UnmanagedContainerDetected'), 'creation');
    await h.docker('start', id);
    await h.waitFor(id, hasAll('ContainerStarted'));
    await h.docker('pause', id);
    await h.waitFor(id, hasAll('ContainerPaused'));
    await h.docker('unpause', id);
    await h.waitFor(id, hasAll('ContainerUnpaused'));
    await h.docker('rename', id, `${name}-renamed`);
    await h.waitFor(id, hasAll('ContainerRenamed'));
    await h.docker('restart', '-t', '5', id);
    await h.waitFor(id, hasAll('ContainerRestarted'));
    await h.docker('kill', id);
    await h.waitFor(id, (t) => t.filter((x) => x === 'ContainerStopped').length === 2, 'second stop');
    await h.docker('rm', id);
    const types = await h.waitFor(id, hasAll('ContainerRemoved'));

    expect(types).toEqual([
      'ContainerCreated',
      'ContainerDescribed',
      'UnmanagedContainerDetected',
      'ContainerStarted',
      'ContainerPaused',
      'ContainerUnpaused',
      'ContainerRenamed',
      'ContainerStopped',
      'ContainerStarted',
      'ContainerRestarted',
      'ContainerStopped',
      'ContainerRemoved',
    ]);
    const events = await h.events(id);
    expect(duplicates(events)).toEqual([]);
    expect(events.every((e) => (e.data as { observation: string }).observation === 'observed')).toBe(true);
    const renamed = events.find((e) => e.type === 'ContainerRenamed')!.data;
    expect(renamed).toMatchObject({ name: `${name}-renamed`, oldName: name });
    const lastStop = events.filter((e) => e.type === 'ContainerStopped').at(-1)!.data;
    expect(lastStop).toMatchObject({ exitCode: 137, oomKilled: false });
    expect(events[0]!.metadata.actor).toEqual({ kind: 'service', name: 'docker-watcher' });
  });

  it('records the exit code of a container that ends by itself, and its health changes', async () => {
    const id = await h.docker(
      'run',
      '-d',
      '--name',
      uniqueName(td, 'health'),
      '--label',
      label,
      '--health-cmd',
      'exit 1',
      '--health-interval',
      '1s',
      '--health-retries',
      '1',
      td.image,
      'sh',
      '-c',
      'sleep 4; exit 5',
    );
    const types = await h.waitFor(
      id,
      hasAll('ContainerStopped', 'ContainerHealthChanged'),
      'exit and health',
    );
    const events = await h.events(id);
    expect(events.find((e) => e.type === 'ContainerStopped')!.data).toMatchObject({ exitCode: 5 });
    expect(events.find((e) => e.type === 'ContainerHealthChanged')!.data).toMatchObject({
      health: 'unhealthy',
    });
    expect(types.indexOf('ContainerStarted')).toBeLessThan(types.indexOf('ContainerStopped'));
  });

  it('an OOM kill: ContainerOutOfMemory, then a ContainerStopped that says oomKilled', async () => {
    const id = await h.docker(
      'run',
      '-d',
      '--name',
      uniqueName(td, 'oom'),
      '--label',
      label,
      '--memory',
      '8m',
      '--memory-swap',
      '8m',
      td.image,
      'sh',
      '-c',
      'x=0123456789abcdef; while true; do x=$x$x; done',
    );
    const types = await h.waitFor(id, hasAll('ContainerStopped', 'ContainerOutOfMemory'), 'its OOM kill');
    expect(types.indexOf('ContainerOutOfMemory')).toBeGreaterThan(types.indexOf('ContainerStarted'));
    const events = await h.events(id);
    const stopped = events.find((e) => e.type === 'ContainerStopped')!.data;
    expect(stopped).toMatchObject({ exitCode: 137 });
    // Docker reports oom before die, or (containerd's two events race under load) after it: the
    // stop says oomKilled in the first case, and the container's state says it in both.
    const oomFirst = types.indexOf('ContainerOutOfMemory') < types.indexOf('ContainerStopped');
    expect(stopped).toMatchObject({ oomKilled: oomFirst });
    const state = events.reduce<ContainerState | undefined>(
      (s, e) => evolveContainerState(s, e as ContainerEvent, e.metadata.occurredAt),
      undefined,
    );
    expect(state?.oomKilled).toBe(true);
  });

  it('a managed container (ds01.managed=true) is not reported as unmanaged; GPU, limits and owner are recorded', async () => {
    const id = await h.docker(
      'create',
      '--name',
      uniqueName(td, 'managed'),
      '--label',
      label,
      '--label',
      'ds01.managed=true',
      '--label',
      'ds01.user=alice',
      '--label',
      'ds01.interface=orchestration',
      '--memory',
      '64m',
      '--pids-limit',
      '50',
      '--cgroup-parent',
      'ds01-student-alice.slice',
      td.image,
    );
    const types = await h.waitFor(id, hasAll('ContainerDescribed'));
    expect(types).toEqual(['ContainerCreated', 'ContainerDescribed']);
    const [created, described] = (await h.events(id)).map((e) => e.data);
    expect(created).toMatchObject({
      image: td.image,
      labels: { 'ds01.user': 'alice', 'ds01.managed': 'true' },
    });
    expect(described).toMatchObject({
      describedFrom: 'inspect',
      managed: true,
      interface: 'orchestration',
      type: 'orchestration',
      owner: { user: 'alice', rule: 'ds01_label' },
      gpu: { access: 'none' },
      cgroupParent: 'ds01-student-alice.slice',
      limits: { memoryBytes: 64 * 1024 * 1024, pidsLimit: 50 },
      image: td.image,
    });
  });

  it('stopping and starting the watcher appends nothing new for what it already recorded', async () => {
    const id = await h.docker('create', '--name', uniqueName(td, 'idem'), '--label', label, td.image);
    await h.waitFor(id, hasAll('UnmanagedContainerDetected'));
    const before = await h.store.countEvents();
    await h.stopWatcher();
    await h.startWatcher();
    // The restart replayed Docker's events since the checkpoint and reconciled: nothing was new.
    expect(await h.types(id)).toEqual([
      'ContainerCreated',
      'ContainerDescribed',
      'UnmanagedContainerDetected',
    ]);
    const mine = await h.store.countEvents();
    expect(mine).toBeGreaterThanOrEqual(before);
    expect(duplicates(await h.events(id))).toEqual([]);
  });
});
