import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Ds01Config } from '@ds01/config';
import { eventCatalog } from '@ds01/domain';
import { openEventStore } from '@ds01/event-store';
import { allProjections, openProjectionsDb, ProjectionRunner } from '@ds01/projections';
import {
  acquireDaemonLock,
  ensurePrivateDirectory,
  HealthBoard,
  Milestones,
  type RunningService,
  type Service,
  type ServiceContext,
} from '@ds01/service';
import type { Logger } from 'pino';
import { startHealthLog } from './healthLog.ts';

export interface DaemonOptions {
  config: Ds01Config;
  logger: Logger;
  services: readonly Service[];
  /** Aborting it stops the daemon (main.ts aborts on SIGTERM/SIGINT). */
  signal: AbortSignal;
  /** How long each service may take to stop before ds01d gives up on it. */
  stopTimeoutMs?: number;
  /** How often the `ds01d health` debug line is logged (default 10 s). */
  healthIntervalMs?: number;
}

/**
 * Runs ds01d until `signal` aborts: takes the data dir's lock, opens the store, brings the read
 * models up to date and keeps them live, starts the services in order; then stops them in
 * reverse, stops the projections and closes the store. Throws when start-up fails (after
 * undoing what had started).
 */
export async function runDaemon(options: DaemonOptions): Promise<void> {
  const { config, logger, signal } = options;
  // Before anything is written: folders others may write are refused (see ensurePrivateDirectory).
  ensurePrivateDirectory(config.paths.dataDir, 'data dir', { create: true });
  if (!config.eventStore.url)
    ensurePrivateDirectory(dirname(config.eventStore.path), 'event store folder', { create: true });
  // A config dir that does not exist holds nothing to trust (every setting has a default).
  if (existsSync(config.paths.configDir)) ensurePrivateDirectory(config.paths.configDir, 'config dir');
  const lock = acquireDaemonLock(config.paths.daemonLock);
  const undo: { name: string; stop(): Promise<void> | void }[] = [
    { name: 'lock', stop: () => lock.release() },
    { name: 'health log', stop: startHealthLog(logger, options.healthIntervalMs ?? 10_000) },
  ];
  try {
    const store = await openEventStore({ ...config.eventStore, codec: eventCatalog });
    undo.push({ name: 'event store', stop: () => store.close() });
    const db = openProjectionsDb(config.paths.projectionsDb, {
      onReplaced: ({ reason, keptAs }) =>
        logger.warn(
          { projectionsDb: config.paths.projectionsDb, keptAs, reason },
          'projections database not readable by this DS01: moved aside, rebuilding every read model from the log',
        ),
    });
    undo.push({ name: 'projections db', stop: () => db.close() });
    const runner = new ProjectionRunner({
      store,
      db,
      projections: allProjections,
      logger: logger.child({ component: 'projections' }),
    });
    await runner.start();
    undo.push({ name: 'projections', stop: () => runner.stop() });
    const health = new HealthBoard();
    const milestones = new Milestones();
    for (const service of options.services) {
      if (signal.aborted) break;
      const context: ServiceContext = {
        store,
        logger: logger.child({ service: service.name }),
        config,
        paths: config.paths,
        projections: { runner, db },
        health,
        milestones,
      };
      const running: RunningService = await service.start(context);
      undo.push({ name: service.name, stop: () => running.stop() });
    }
    if (!signal.aborted) {
      logger.info(
        {
          dataDir: config.paths.dataDir,
          store: store.info.location,
          head: await store.headPosition(),
          projections: runner.status().map((p) => `${p.name}@${p.position}${p.error ? ' (failed)' : ''}`),
          services: options.services.map((s) => s.name),
        },
        'ds01d ready',
      );
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    }
    logger.info({ reason: String(signal.reason ?? 'stop requested') }, 'ds01d stopping');
  } finally {
    await stopAll(undo.reverse(), logger, options.stopTimeoutMs ?? 5000);
  }
}

/** Stops in the given order; one that fails or hangs is logged and the others still stop. */
async function stopAll(
  parts: readonly { name: string; stop(): Promise<void> | void }[],
  logger: Logger,
  timeoutMs: number,
): Promise<void> {
  for (const part of parts) {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve(part.stop()),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`did not stop within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (error) {
      logger.error({ part: part.name, err: error }, `could not stop ${part.name} cleanly`);
    } finally {
      clearTimeout(timer);
    }
  }
}
