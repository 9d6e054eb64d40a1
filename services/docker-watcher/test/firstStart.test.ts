import { afterAll, expect, it } from 'vitest';
import {
  cleanupTestRun,
  describeWithDocker,
  TEST_RUN_LABEL,
  uniqueName,
} from '../../../test/support/docker.ts';
import { hasAll, WatcherHarness } from './harness.ts';

/**
 * A watcher's first start (no checkpoint: a fresh install, or ds01d starting as a burst of containers
 * begins) also replays the minute before it subscribed. A container that came and went while ds01d
 * was starting is gone before the reconciliation lists it: without the replay, only the removal that
 * reached the live stream would be on the log (the crash harness found such a container, created half
 * a second before the watcher subscribed).
 */
describeWithDocker('docker watcher: its first start', (td) => {
  afterAll(() => cleanupTestRun(td));

  it('records whole a container that came and went just before it subscribed', {
    timeout: 120_000,
  }, async () => {
    const h = new WatcherHarness(td.host);
    try {
      const name = uniqueName(td, 'before-first-start');
      const label = `${TEST_RUN_LABEL}=${td.runId}`;
      const id = await h.docker('create', '--name', name, '--label', label, td.image, 'true');
      await h.docker('start', '--attach', id);
      await h.docker('rm', id);

      await h.startWatcher();
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

  it('with no replay (replayOverlapMs 0) it knows nothing of that container: the replay is what records it', {
    timeout: 120_000,
  }, async () => {
    const h = new WatcherHarness(td.host);
    try {
      const label = `${TEST_RUN_LABEL}=${td.runId}`;
      const gone = await h.docker(
        'create',
        '--name',
        uniqueName(td, 'unseen-gone'),
        '--label',
        label,
        td.image,
      );
      await h.docker('rm', gone);
      const marker = await h.docker('create', '--name', uniqueName(td, 'marker'), '--label', label, td.image);

      await h.startWatcher({ replayOverlapMs: 0 });
      await h.waitForLog('reconciled Docker containers with the log');
      await h.waitFor(marker, hasAll('ContainerCreated'), 'the reconciled marker');
      expect(await h.types(gone)).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
