import { dockerHistoryStream } from '@ds01/domain';
import { connectDocker, DOCKER_EVENT_RING_SIZE } from '@ds01/host';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker } from '../../../test/support/docker.ts';
import { PrivateDockerd } from '../../../test/support/privateDockerd.ts';
import { HARNESS_HOST, hasAll, WatcherHarness } from './harness.ts';

/**
 * dockerd replays only its last 256 events (of every type). When more happen while the watcher is away,
 * what came before them is gone: the log must say so, not look complete. On a dockerd of its own, since
 * the flood of events that overflows the ring would do so for every suite beside it.
 */
describeWithDocker('docker watcher: more happened while away than Docker keeps', (td) => {
  const daemon = new PrivateDockerd(`gap-${td.runId}`);
  beforeAll(async () => {
    await daemon.start();
    await daemon.loadImageFrom(td);
  }, 120_000);
  afterAll(() => daemon.destroy(), 120_000);

  it('records DockerHistoryMissed from its checkpoint to the oldest event Docker kept, once', {
    timeout: 180_000,
  }, async () => {
    const h = new WatcherHarness(daemon.host);
    try {
      await h.startWatcher();
      const known = await daemon.docker('run', '-d', '--name', 'known', td.image, 'sleep', '300');
      await h.waitFor(known, hasAll('ContainerStarted'));
      await h.stopWatcher();

      // While nobody watches: a container comes and goes, then more events than the ring holds.
      const lost = await daemon.docker('create', '--name', 'lost', td.image);
      await daemon.docker('rm', lost);
      const { docker } = connectDocker(daemon.host);
      const volumes = Math.ceil(DOCKER_EVENT_RING_SIZE / 2) + 10; // create + destroy: two events each
      for (let i = 0; i < volumes; i += 20) {
        await Promise.all(
          Array.from({ length: Math.min(20, volumes - i) }, async (_, j) => {
            const name = `flood-${i + j}`;
            await docker.createVolume({ Name: name });
            await docker.getVolume(name).remove();
          }),
        );
      }
      const appeared = await daemon.docker('run', '-d', '--name', 'appeared', td.image, 'sleep', '300');

      await h.startWatcher();
      await h.waitFor(appeared, hasAll('ContainerCreated', 'ContainerStarted'));
      const gaps = await h.streamEvents(dockerHistoryStream(HARNESS_HOST));
      expect(gaps.map((e) => e.type)).toEqual(['DockerHistoryMissed']);
      const gap = gaps[0]!.data as { from: string; until: string; ringSize: number };
      expect(gap.ringSize).toBe(DOCKER_EVENT_RING_SIZE);
      expect(Date.parse(gap.from)).toBeLessThan(Date.parse(gap.until));
      // The container that came and went in the gap is not on the log: the gap is what says so.
      expect(await h.types(lost)).toEqual([]);
      expect(
        h.logs.some((l) => l.level === 'warn' && /Docker no longer holds what happened/.test(l.msg)),
      ).toBe(true);

      // The next round starts from a checkpoint inside what Docker keeps: no new gap.
      const reconciled = 'reconciled Docker containers with the log';
      await h.waitForLog(reconciled, 2);
      await h.stopWatcher();
      await h.startWatcher();
      await h.waitForLog(reconciled, 3);
      expect((await h.streamEvents(dockerHistoryStream(HARNESS_HOST))).length).toBe(1);
    } finally {
      await h.close();
    }
  });
});
