import { gpusConfigOf } from '@ds01/config';
import { selectGpuSource } from '@ds01/host';
import type { RunningService, Service, ServiceContext } from '@ds01/service';
import { GpuSampler } from './gpuSampler.ts';

export interface GpuSamplerService extends Service {
  /** The running sampler (its latest() and status()), null while the service is stopped. */
  sampler(): GpuSampler | null;
}

/**
 * How long start() waits for the first probe. A probe that works takes well under this, so its
 * inventory (or failure) is recorded when ds01d says ready; a hung nvidia-smi does not hold start-up
 * for its whole timeout: the probe goes on and records its outcome when its deadline comes.
 */
export const FIRST_PROBE_WAIT_MS = 3000;

/**
 * The gpu-sampler as a ds01d service: reads the `gpus:` section of ds01.yaml, picks the source
 * (nvidia-smi or simulated), starts a first probe and waits for it at most `firstProbeWaitMs`, then
 * probes every probe_interval_seconds.
 */
export function createGpuSamplerService(options: { firstProbeWaitMs?: number } = {}): GpuSamplerService {
  const firstProbeWaitMs = options.firstProbeWaitMs ?? FIRST_PROBE_WAIT_MS;
  let running: GpuSampler | null = null;
  return {
    name: 'gpu-sampler',
    sampler: () => running,
    async start(context: ServiceContext): Promise<RunningService> {
      const config = gpusConfigOf(context.config.yaml);
      const source = await selectGpuSource(config);
      if (config.mode === 'auto' && source.kind === 'simulated') {
        context.logger.warn(
          { nvidiaSmi: config.nvidia_smi },
          `${config.nvidia_smi} not found: using the simulated GPUs of ds01.yaml (${config.simulated.length}); ` +
            'on a GPU server, install the NVIDIA driver or set gpus.mode: nvidia-smi',
        );
      }
      const sampler = new GpuSampler({
        store: context.store,
        source,
        host: context.config.host,
        intervalMs: config.probe_interval_seconds * 1000,
        logger: context.logger,
      });
      const first = sampler.probeOnce();
      let waited: NodeJS.Timeout | undefined;
      const slow = await Promise.race([
        first.then(() => false),
        new Promise<boolean>((resolve) => {
          waited = setTimeout(() => resolve(true), firstProbeWaitMs);
        }),
      ]);
      clearTimeout(waited);
      if (slow) {
        context.logger.warn(
          {
            source: source.description,
            waitedMs: firstProbeWaitMs,
            timeoutSeconds: config.probe_timeout_seconds,
          },
          `the first GPU probe takes longer than ${firstProbeWaitMs} ms: starting without waiting for it ` +
            `(it is given up after ${config.probe_timeout_seconds} s)`,
        );
      }
      sampler.start(config.probe_interval_seconds * 1000);
      running = sampler;
      const unregister = context.health?.register('gpu-sampler', () => {
        const status = sampler.status();
        return { probes: status.probes, consecutive_failures: status.consecutiveFailures };
      });
      context.logger.info(
        { source: source.description, intervalSeconds: config.probe_interval_seconds },
        'gpu-sampler started',
      );
      return {
        async stop() {
          unregister?.();
          running = null;
          await sampler.stop();
        },
      };
    },
  };
}

/** ds01d's one gpu-sampler (services.ts registers it; others read the inventory it records on the log). */
export const gpuSamplerService = createGpuSamplerService();
