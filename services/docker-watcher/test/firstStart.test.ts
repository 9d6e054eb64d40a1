import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { UserRegistered } from '@ds01/domain';
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
 * start (`watchingSince`), or since the log's first event if a ds01d before it was killed before its
 * watcher marked anything. A container that came and went meanwhile is gone before the reconciliation
 * lists it: without the replay, at most the removal that reached the live stream would be on the log
 * (the crash harness found such containers, created half a second before the subscription, and while
 * a ds01d killed in its start-up was down).
 */
describeWithDocker('docker watcher: its first start', (td) => {
  afterAll(() => cleanupTestRun(td));
  const label = `${TEST_RUN_LABEL}=${td.runId}`;
  const LIFE = ['ContainerCreated', 'ContainerStarted', 'ContainerStopped', 'ContainerRemoved'];

  /** A container created, run to its end and removed, with no watcher looking; its id. */
  async function comeAndGo(h: WatcherHarness, name: string): Promise<string> {
    const id = await h.docker('create', '--name', uniqueName(td, name), '--label', label, td.image, 'true');
    await h.docker('start', '--attach', id);
    await h.docker('rm', id);
    // Docker's clock has millisecond steps here: what comes next is strictly after the removal.
    await new Promise((resolve) => setTimeout(resolve, 5));
    return id;
  }

  /** Each transition of the container's life on the log, once. */
  async function expectWholeLifeOnce(h: WatcherHarness, id: string, what: string): Promise<void> {
    const types = await h.waitFor(id, hasAll(...LIFE, 'ContainerDescribed'), what);
    for (const type of LIFE) {
      expect(
        types.filter((t) => t === type),
        types.join(),
      ).toHaveLength(1);
    }
  }

  it('records whole a container that came and went after ds01d started, before the watcher subscribed', {
    timeout: 120_000,
  }, async () => {
    const h = new WatcherHarness(td.host);
    try {
      const ds01dStarted = new Date().toISOString();
      const id = await comeAndGo(h, 'while-starting');
      await h.startWatcher({ watchingSince: ds01dStarted });
      await expectWholeLifeOnce(h, id, 'the whole life of the container');
    } finally {
      await h.close();
    }
  });

  it('after a first start that never reached Docker (killed in its start-up), replays from that start', {
    timeout: 120_000,
  }, async () => {
    // The crash harness: ds01d killed 0.3 s into its first start, before its first round; containers
    // came and went while it was down; the next start found no checkpoint and replayed from its own
    // start only, so one container's creation was never on the log.
    const h = new WatcherHarness(td.host);
    try {
      await h.startWatcher({
        watchingSince: new Date().toISOString(),
        dockerHost: `unix://${join(h.dataDir, 'no-docker.sock')}`,
      });
      await h.stopWatcher();
      const id = await comeAndGo(h, 'while-down');
      await h.startWatcher({ watchingSince: new Date().toISOString() });
      await expectWholeLifeOnce(h, id, 'the whole life of the container, while no watcher ran');
    } finally {
      await h.close();
    }
  });

  it('after a ds01d killed before its watcher started, replays from the first event that ds01d recorded', {
    timeout: 120_000,
  }, async () => {
    // The crash harness again: the first ds01d got as far as recording its inventory and policy, and
    // was killed before its watcher marked anything; a container came and went before the next start.
    const h = new WatcherHarness(td.host);
    try {
      await h.store.append('user-alice', [
        {
          ...UserRegistered({ user: 'alice', uid: 1001, group: 'students' }),
          metadata: {
            eventId: randomUUID(),
            occurredAt: new Date().toISOString(),
            actor: { kind: 'service', name: 'policy-watcher' },
            host: 'gpu01',
            correlationId: randomUUID(),
            causationId: null,
          },
        },
      ]);
      const id = await comeAndGo(h, 'unwatched');
      await h.startWatcher({ watchingSince: new Date().toISOString() });
      await expectWholeLifeOnce(h, id, 'the whole life of the container, before any watcher ran');
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
