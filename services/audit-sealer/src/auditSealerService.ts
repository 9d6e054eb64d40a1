import { auditConfigOf } from '@ds01/config';
import { ReadModel, sealAuditChain } from '@ds01/projections';
import type { RunningService, Service, ServiceContext } from '@ds01/service';

/**
 * Seals the hash chain every audit.seal_interval_minutes (ds01.yaml, default 60): what the audit
 * projection has read by then is covered, so a change to the log made after it shows in
 * `ds01 audit verify` even if the views are rebuilt from the changed log. (Not at start: a daemon
 * restarted often would seal for nothing; `ds01 audit seal` seals at once.)
 */
export function createAuditSealerService(options: { intervalMs?: number; clock?: () => Date } = {}): Service {
  return {
    name: 'audit-sealer',
    async start(context: ServiceContext): Promise<RunningService> {
      const everyMs = options.intervalMs ?? auditConfigOf(context.config.yaml).seal_interval_minutes * 60_000;
      const clock = options.clock ?? (() => new Date());
      const readModel = new ReadModel(context.paths.projectionsDb);
      let sealing: Promise<void> = Promise.resolve();
      const seal = () => {
        sealing = sealing
          .then(async () => {
            const sealed = await sealAuditChain({
              store: context.store,
              readModel,
              host: context.config.host,
              actor: { kind: 'service', name: 'audit-sealer' },
              now: clock(),
            });
            if (sealed) context.logger.debug({ upTo: sealed.data.upTo }, 'audit chain sealed');
          })
          .catch((error: unknown) =>
            context.logger.warn(
              { err: error },
              'could not seal the audit chain; trying again at the next interval',
            ),
          );
        return sealing;
      };
      const timer = setInterval(() => void seal(), everyMs);
      timer.unref();
      return {
        async stop() {
          clearInterval(timer);
          await sealing;
          readModel.close();
        },
      };
    },
  };
}

export const auditSealerService = createAuditSealerService();
