import { GpusConfig } from '@ds01/config';
import type { RunningService, Service, ServiceContext } from '@ds01/ds01d';
import { selectGpuSource } from '@ds01/host';
import { GpuSampler } from './gpuSampler.ts';

export interface GpuSamplerService extends Service {
  /** The running sampler (its latest() and status()), null while the service is stopped. */
  sampler(): GpuSampler | null;
}

/**
 * The gpu-sampler as a ds01d service: reads the `gpus:` section of ds01.yaml, picks the source
 * (nvidia-smi or simulated), probes once before start() resolves (so the host's inventory is
 * recorded when ds01d says ready, or its failure is), then every probe_interval_seconds.
 */
export function createGpuSamplerService(): GpuSamplerService {
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
      await sampler.probeOnce();
      sampler.start(config.probe_interval_seconds * 1000);
      running = sampler;
      context.logger.info(
        { source: source.description, intervalSeconds: config.probe_interval_seconds },
        'gpu-sampler started',
      );
      return {
        async stop() {
          running = null;
          await sampler.stop();
        },
      };
    },
  };
}

/** ds01d's one gpu-sampler (services.ts registers it; other services read its sampler()). */
export const gpuSamplerService = createGpuSamplerService();

/** The `gpus:` section of the validated ds01.yaml (defaults when absent). */
export function gpusConfigOf(yaml: object): GpusConfig {
  const parsed = GpusConfig.safeParse((yaml as { gpus?: unknown }).gpus ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new Error(
    `ds01.yaml gpus.${issue.path.join('.')}: ${issue.message} (see config/gpus.simulated.example.yaml)`,
  );
}
