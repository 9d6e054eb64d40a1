import { lifecycleConfigOf } from '@ds01/config';
import { connectDocker, type DockerConnection } from '@ds01/host';
import { caughtUpRounds, dbRows, LifecycleReadModel, policyFromConfigDir } from '@ds01/lifecycle';
import type { RunningService, Service, ServiceContext } from '@ds01/service';
import { AccountWatcher } from './accountWatcher.ts';
import { LifecycleTicker } from './lifecycleTicker.ts';

export interface LifecycleServiceOptions {
  docker?: () => DockerConnection;
  now?: () => Date;
}

/**
 * The lifecycle in ds01d: the ticker (every lifecycle.tick_s) and the account check (every
 * lifecycle.account_check_s). Decisions are read from and recorded through the lifecycle read model
 * and the containers' lifecycle streams; the enforcer carries them out.
 */
export function createLifecycleService(options: LifecycleServiceOptions = {}): Service {
  return {
    name: 'lifecycle',
    async start(context: ServiceContext): Promise<RunningService> {
      const { store, config, paths, logger, projections } = context;
      const lifecycleConfig = lifecycleConfigOf(config.yaml);
      const reader = dbRows(projections.db);
      const lifecycle = new LifecycleReadModel(reader);
      let connection: DockerConnection | null = null;
      try {
        connection = (options.docker ?? connectDocker)();
      } catch (error) {
        logger.warn({ err: (error as Error).message }, 'keep-alive files cannot be read: no Docker');
      }
      const ticker = new LifecycleTicker({
        store,
        lifecycle,
        projections: reader,
        policy: policyFromConfigDir(paths.configDir, lifecycleConfig),
        connection,
        host: config.host,
        config: lifecycleConfig,
        now: options.now,
        logger,
      });
      const accounts = new AccountWatcher({
        store,
        lifecycle,
        projections: reader,
        host: config.host,
        logger,
      });
      const ticks = caughtUpRounds(
        store,
        projections.runner,
        () => ticker.runOnce(),
        logger,
        'lifecycle tick failed',
        context.milestones?.when('docker-reconciled'),
      );
      const tick = ticks.run;
      const checkAccounts = () =>
        accounts
          .runOnce()
          .catch((error: unknown) => logger.warn({ err: String(error) }, 'account check failed'));
      void tick();
      const tickTimer = setInterval(() => void tick(), lifecycleConfig.tick_s * 1000);
      tickTimer.unref();
      const accountTimer = setInterval(() => void checkAccounts(), lifecycleConfig.account_check_s * 1000);
      accountTimer.unref();
      void checkAccounts();
      logger.info({ tickS: lifecycleConfig.tick_s }, 'lifecycle started');
      return {
        async stop() {
          clearInterval(tickTimer);
          clearInterval(accountTimer);
          await ticks.stop();
        },
      };
    },
  };
}

/** ds01d's lifecycle service (after the docker watcher and the allocator in services.ts). */
export const lifecycleService = createLifecycleService();
