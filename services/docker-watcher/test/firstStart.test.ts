import { afterAll, expect, it } from 'vitest';
import {
  cleanupTestRun,
  describeWithDocker,
  TEST_RUN_LABEL,
  uniqueName,
} from '../../../test/support/docker.ts';
import { hasAll, WatcherHarness } from './harness.ts';

/**
 * A watcher's first start (no checkpoint: a fresh install) replays what Docker did since ds01d's own
 * start (`watchingSince`). A container that came and went while ds01d was starting is gone before the
 * reconciliation lists it: without the replay, only the removal that reached the live stream would be on
 * the log (the crash harness found such a container, created half a second before the subscription).
 */
describeWithDocker('docker watcher: its first start', (td) => {
  afterAll(() => cleanupTestRun(td));
  const label = `${TEST_RUN_LABEL}=${td.runId}`;

  it('records whole a container that came and went after ds01d started, before the watcher subscribed', {
    timeout: 120_000,
  }, async () => {
    const h = new WatcherHarness(td.host);
    try {
      const ds01dStarted = new Date().toISOString();
      const id = await h.docker(
        'create',
        '--name',
        uniqueName(td, 'while-starting'),
        '--label',
        label,
        td.image,
        'true',
      );
      await h.docker('start', '--attach', id);
      await h.docker('rm', id);

      await h.startWatcher({ watchingSince: ds01dStarted });
      const types = await h.waitFor(
        id,
        hasAll(
          'ContainerCreated',
          'ContainerStarted',
          'ContainerStopped',
          'ContainerRemoved',
          'ContainerDescribed',
        ),
        'the whole life of the container',
      );
      for (const type of ['ContainerCreated', 'ContainerStarted', 'ContainerStopped', 'ContainerRemoved']) {
        expect(
          types.filter((t) => t === type),
          types.join(),
        ).toHaveLength(1);
      }
    } finally {
      await h.close();
    }
  });

  it('records nothing of a container gone before ds01d started: the log begins with DS01', {
    timeout: 120_000,
  }, async () => {
    const h = new WatcherHarness(td.host);
    try {
      const gone = await h.docker(
        'create',
        '--name',
        uniqueName(td, 'before-ds01'),
        '--label',
        label,
        td.image,
      );
      await h.docker('rm', gone);
      // Docker's clock has millisecond steps here: the start is strictly after the removal.
      await new Promise((resolve) => setTimeout(resolve, 5));
      const ds01dStarted = new Date().toISOString();
      const marker = await h.docker('create', '--name', uniqueName(td, 'marker'), '--label', label, td.image);

      await h.startWatcher({ watchingSince: ds01dStarted });
      await h.waitForLog('reconciled Docker containers with the log');
      await h.waitFor(marker, hasAll('ContainerCreated'), 'the reconciled marker');
      expect(await h.types(gone)).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
