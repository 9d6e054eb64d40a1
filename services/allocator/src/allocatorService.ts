import { join } from 'node:path';
import { hostAllocator, inventoryFrom, limitsFromConfigDir, storedInventory } from '@ds01/allocation';
import { RepeatedFailureLog } from '@ds01/event-store';
import { connectDocker, type DockerConnection } from '@ds01/host';
import type { RunningService, Service, ServiceContext } from '@ds01/service';
import { GpuHoldManager } from './gpuHoldManager.ts';
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
        async () => (await storedInventory(store, config.host))?.inventory ?? null,
        "the gpu-sampler's recorded inventory",
      );
      const allocator = hostAllocator({ store, config, inventory });
      let stopped = false;
      let retry: NodeJS.Timeout | undefined;
      const retryMs = options.switchOverRetryMs ?? 30_000;
      // No Docker on this host, or a full disk: said in full once, then only every 10th try.
      const switchOverFailures = new RepeatedFailureLog({
        logger,
        what: 'switch-over from ds01-infra failed: GPUs held by existing containers are not recorded yet',
        retryEveryMs: retryMs,
        remindEvery: 10,
      });
      const switchOver = async (): Promise<void> => {
        try {
          const result = await switchOverFromDs01Infra({
            connection: (options.docker ?? connectDocker)(),
            allocator,
            limits: limitsFromConfigDir(paths.configDir),
            actor: { kind: 'service', name: 'allocator' },
          });
          switchOverFailures.recovered();
          if (result.ran) {
            const problems = result.events.filter((e) => e.type === 'GpuReconciliationProblem').length;
            logger.info(
              { containersWithGpus: result.containersWithGpus, problems },
              'switch-over: recorded the GPUs held by existing containers',
            );
          }
        } catch (error) {
          switchOverFailures.failed(error);
          if (!stopped) {
            retry = setTimeout(() => void switchOver(), retryMs);
            retry.unref();
          }
        }
      };
      await switchOver();
      // The pool shows its devices (all free) from the start, and its new ones soon after the GPUs
      // change, rather than only when someone next asks for a GPU.
      const inventoryEveryMs = options.expiryIntervalMs ?? 30_000;
      const inventoryFailures = new RepeatedFailureLog({
        logger,
        what: "could not record the GPU pool's devices",
        retryEveryMs: inventoryEveryMs,
      });
      const recordInventory = async (): Promise<void> => {
        try {
          await allocator.recordInventory({ kind: 'service', name: 'allocator' });
          inventoryFailures.recovered();
        } catch (error) {
          inventoryFailures.failed(error);
        }
      };
      await recordInventory();
      const inventoryTimer = setInterval(() => void recordInventory(), inventoryEveryMs);
      inventoryTimer.unref();
      const holds = new GpuHoldManager({
        store,
        allocator,
        checkpointPath: join(paths.dataDir, 'gpu-hold-manager.checkpoint'),
        expiryIntervalMs: options.expiryIntervalMs ?? 30_000,
        logger,
        dockerReconciled: context.milestones?.when('docker-reconciled'),
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
