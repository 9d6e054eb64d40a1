import { lifecycleConfigOf } from '@ds01/config';
import { connectDocker, type DockerConnection } from '@ds01/host';
import { caughtUpRounds, dbRows, LifecycleReadModel } from '@ds01/lifecycle';
import type { RunningService, Service, ServiceContext } from '@ds01/service';
import { Enforcer } from './enforcer.ts';

export interface EnforcerServiceOptions {
  docker?: () => DockerConnection;
  now?: () => Date;
}

/** The enforcer in ds01d: every lifecycle.tick_s, the due retirements are carried out. */
export function createEnforcerService(options: EnforcerServiceOptions = {}): Service {
  return {
    name: 'enforcer',
    async start(context: ServiceContext): Promise<RunningService> {
      const { store, config, logger, projections } = context;
      const lifecycleConfig = lifecycleConfigOf(config.yaml);
      const enforcer = new Enforcer({
        store,
        lifecycle: new LifecycleReadModel(dbRows(projections.db)),
        connection: (options.docker ?? connectDocker)(),
        host: config.host,
        config: lifecycleConfig,
        now: options.now,
        logger,
      });
      const rounds = caughtUpRounds(
        store,
        projections.runner,
        () => enforcer.runOnce(),
        logger,
        'enforcer round failed',
        context.milestones?.when('docker-reconciled'),
      );
      const round = rounds.run;
      void round();
      const timer = setInterval(() => void round(), lifecycleConfig.tick_s * 1000);
      timer.unref();
      logger.info(
        { dryRun: lifecycleConfig.dry_run },
        lifecycleConfig.dry_run ? 'enforcer started (dry run)' : 'enforcer started',
      );
      return {
        async stop() {
          clearInterval(timer);
          await rounds.stop();
        },
      };
    },
  };
}

export const enforcerService = createEnforcerService();
