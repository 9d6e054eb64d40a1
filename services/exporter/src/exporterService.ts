import { analyticsConfigOf, exporterConfigOf, intensityRanges } from '@ds01/config';
import { loggedInSessions } from '@ds01/host';
import { allProjections, ReadModel } from '@ds01/projections';
import type { RunningService, Service, ServiceContext } from '@ds01/service';
import { Exporter } from './exporter.ts';

/**
 * The exporter as a ds01d service: listens on exporter.bind:port of ds01.yaml
 * ($DS01_EXPORTER_BIND, $DS01_EXPORTER_PORT; 127.0.0.1:9101 by default) and refreshes its metrics
 * from the read models every 5 s.
 */
/** How long the exporter waits before it tries a taken port again. */
const LISTEN_RETRY_MS = 30_000;

export function createExporterService(
  options: { env?: Record<string, string | undefined>; refreshMs?: number } = {},
): Service {
  return {
    name: 'exporter',
    async start(context: ServiceContext): Promise<RunningService> {
      const { bind, port } = exporterConfigOf(context.config.yaml, options.env ?? process.env);
      const readModel = new ReadModel(context.paths.projectionsDb);
      const exporter = new Exporter({
        readModel,
        store: context.store,
        host: context.config.host,
        dataDir: context.paths.dataDir,
        bind,
        port,
        ...(options.refreshMs ? { refreshMs: options.refreshMs } : {}),
        projections: () => context.projections.runner.status(),
        projectionEventTypes: (name) => allProjections.find((p) => p.name === name)?.eventTypes,
        health: () => context.health?.read() ?? [],
        sessions: () => loggedInSessions(),
        intensity: intensityRanges(analyticsConfigOf(context.config.yaml)),
        onError: (error) =>
          context.logger.warn({ err: error }, 'exporter: could not refresh the metrics from the read models'),
      });
      // A port already taken (another exporter, ds01-infra's still running) must not stop the
      // daemon that controls the GPUs: say so, and try again until it is free.
      let retry: NodeJS.Timeout | undefined;
      let stopped = false;
      const listen = async (): Promise<void> => {
        try {
          const address = await exporter.start();
          context.logger.info({ address: `${address.address}:${address.port}` }, 'exporter listening');
        } catch (error) {
          context.logger.error(
            { err: error, bind, port, retryInSeconds: LISTEN_RETRY_MS / 1000 },
            `exporter cannot listen on ${bind}:${port}: ${(error as Error).message}; set exporter.port in ds01.yaml or DS01_EXPORTER_PORT, or free the port`,
          );
          if (!stopped) retry = setTimeout(() => void listen(), LISTEN_RETRY_MS).unref();
        }
      };
      await listen();
      return {
        async stop() {
          stopped = true;
          clearTimeout(retry);
          await exporter.stop();
          readModel.close();
        },
      };
    },
  };
}

export const exporterService = createExporterService();
