import { join } from 'node:path';
import type { RunningService, Service, ServiceContext } from '@ds01/ds01d';
import { gpuSamplerService, storedInventory } from '@ds01/gpu-sampler';
import { connectDocker, type DockerConnection } from '@ds01/host';
import { GpuHoldManager } from './gpuHoldManager.ts';
import { hostAllocator } from './hostAllocator.ts';
import { inventoryFrom } from './inventorySource.ts';
import { limitsFromConfigDir } from './limitsSource.ts';
import { switchOverFromDs01Infra } from './switchOver.ts';

export interface AllocatorServiceOptions {
  /** How often holds are checked for expiry (default 30 s: a hold is 15 minutes at the least). */
  expiryIntervalMs?: number;
  /** How long to wait before trying the switch-over again when it failed (Docker down...). */
  switchOverRetryMs?: number;
  /** The Docker daemon whose containers the switch-over reads (default DOCKER_HOST or the socket). */
  docker?: () => DockerConnection;
}

/**
 * GPU allocation in ds01d: on start, the switch-over from ds01-infra (once per host; retried in the
 * background while Docker or the limits cannot be read), then the hold manager, which turns container
 * stops, starts and removals into pool commands and expires holds. Decisions read the gpu-sampler's
 * last sample, never nvidia-smi itself.
 */
export function createAllocatorService(options: AllocatorServiceOptions = {}): Service {
  return {
    name: 'allocator',
    async start(context: ServiceContext): Promise<RunningService> {
      const { store, config, paths, logger } = context;
      const inventory = inventoryFrom(
        async () =>
          gpuSamplerService.sampler()?.latest()?.inventory ??
          (await storedInventory(store, config.host))?.inventory ??
          null,
        'the gpu-sampler',
      );
      const allocator = hostAllocator({ store, config, inventory });
      let stopped = false;
      let retry: NodeJS.Timeout | undefined;
      let failedTries = 0;
      const switchOver = async (): Promise<void> => {
        try {
          const result = await switchOverFromDs01Infra({
            connection: (options.docker ?? connectDocker)(),
            allocator,
            limits: limitsFromConfigDir(paths.configDir),
            actor: { kind: 'service', name: 'allocator' },
          });
          if (result.ran) {
            const problems = result.events.filter((e) => e.type === 'GpuReconciliationProblem').length;
            logger.info(
              { containersWithGpus: result.containersWithGpus, problems },
              'switch-over: recorded the GPUs held by existing containers',
            );
          }
        } catch (error) {
          // Said in full once; while it keeps failing (no Docker on this host) only every 10th try.
          failedTries += 1;
          const message =
            'switch-over from ds01-infra failed: GPUs held by existing containers are not recorded yet; trying again';
          if (failedTries === 1) logger.error({ err: error }, message);
          else
            logger[failedTries % 10 === 0 ? 'warn' : 'debug'](
              { reason: (error as Error).message, failedTries },
              message,
            );
          if (!stopped) {
            retry = setTimeout(() => void switchOver(), options.switchOverRetryMs ?? 30_000);
            retry.unref();
          }
        }
      };
      await switchOver();
      // The pool shows its devices (all free) from the start, and its new ones soon after the GPUs
      // change, rather than only when someone next asks for a GPU.
      const recordInventory = async (): Promise<void> => {
        try {
          await allocator.recordInventory({ kind: 'service', name: 'allocator' });
        } catch (error) {
          logger.warn({ err: error }, "could not record the GPU pool's devices; retrying later");
        }
      };
      await recordInventory();
      const inventoryTimer = setInterval(() => void recordInventory(), options.expiryIntervalMs ?? 30_000);
      inventoryTimer.unref();
      const holds = new GpuHoldManager({
        store,
        allocator,
        checkpointPath: join(paths.dataDir, 'gpu-hold-manager.checkpoint'),
        expiryIntervalMs: options.expiryIntervalMs ?? 30_000,
        logger,
      });
      await holds.start();
      logger.info({ pool: allocator.stream }, 'allocator started');
      return {
        async stop() {
          stopped = true;
          if (retry) clearTimeout(retry);
          clearInterval(inventoryTimer);
          await holds.stop();
        },
      };
    },
  };
}

/** ds01d's allocator (services.ts registers it after the docker watcher and the gpu-sampler). */
export const allocatorService = createAllocatorService();
