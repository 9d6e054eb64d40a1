import { join } from 'node:path';
import type { EventStore } from '@ds01/event-store';
import { connectDocker } from '@ds01/host';
import type { Milestones } from '@ds01/service';
import { DockerWatcher, type WatcherLogger } from './dockerWatcher.ts';

/** What the watcher needs from ds01d's ServiceContext (services/ds01d/src/service.ts). */
export interface DockerWatcherServiceContext {
  store: EventStore;
  logger: WatcherLogger;
  paths: { dataDir: string };
  /** `host` in ds01.yaml: the name its events carry, and which of a shared log's containers are its own. */
  config: { host: string };
  health?: { register(service: string, read: () => Record<string, number>): () => void };
  milestones?: Pick<Milestones, 'reached'>;
}

/**
 * The docker watcher as a ds01d service: watches the daemon at DOCKER_HOST (default
 * /var/run/docker.sock), checkpointing in `<data dir>/docker-watcher.checkpoint`.
 */
export const dockerWatcherService = {
  name: 'docker-watcher',
  async start(context: DockerWatcherServiceContext): Promise<{ stop(): Promise<void> }> {
    const watcher = new DockerWatcher({
      store: context.store,
      connection: connectDocker(),
      checkpointPath: join(context.paths.dataDir, 'docker-watcher.checkpoint'),
      logger: context.logger,
      host: context.config.host,
      // What Docker did while ds01d was starting is recorded on a first start too (see the option).
      watchingSince: new Date(performance.timeOrigin).toISOString(),
      onReconciled: () => context.milestones?.reached('docker-reconciled'),
    });
    await watcher.start();
    const unregister = context.health?.register('docker-watcher', () => {
      const status = watcher.status();
      return { connected: status.connected ? 1 : 0, reconnects: status.reconnects };
    });
    return {
      stop: async () => {
        unregister?.();
        await watcher.stop();
      },
    };
  },
};
