import { gpuHealthThresholdsOf, gpusConfigOf, telemetryConfigOf } from '@ds01/config';
import type { UsageHolder } from '@ds01/domain';
import { HostUserDirectory, selectGpuSource } from '@ds01/host';
import { containerOwner, LazyReadModel, slotStatus } from '@ds01/projections';
import type { RunningService, Service, ServiceContext } from '@ds01/service';
import { GpuSampler } from './gpuSampler.ts';
import { BareMetalRulesSource } from './hostProcesses/bareMetalRules.ts';
import { HostGpuProcessWatch } from './hostProcesses/hostGpuProcessWatch.ts';
import { GpuUsageRecorder } from './usage/gpuUsageRecorder.ts';

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
      const telemetry = telemetryConfigOf(context.config.yaml);
      const readModel = new LazyReadModel(
        context.paths.projectionsDb,
        context.logger,
        'GPU usage records no slot holders or container owners',
      );
      const holders = { of: (host: string) => holdersOf(readModel, host) };
      const host = context.config.host;
      const usage = new GpuUsageRecorder({
        store: context.store,
        host,
        logger: context.logger,
        windowMs: telemetry.window_seconds * 1000,
        dcgm: telemetry.dcgm_exporter_url
          ? { url: telemetry.dcgm_exporter_url, timeoutMs: telemetry.dcgm_timeout_seconds * 1000 }
          : null,
        healthThresholds: gpuHealthThresholdsOf(telemetry),
        holders: () => holders.of(host),
      });
      const bareMetal = new BareMetalRulesSource(
        context.paths.configDir,
        telemetry.host_processes,
        context.logger,
      );
      const processes = new HostGpuProcessWatch({
        store: context.store,
        host,
        logger: context.logger,
        graceMs: telemetry.host_processes.grace_seconds * 1000,
        rules: () => bareMetal.rules(),
        groupsOf: (user) => bareMetal.groupsOf(user),
        containerOwner: (containerId) => readModel.use((model) => containerOwner(model, containerId), null),
        users: new HostUserDirectory(),
      });
      const sampler = new GpuSampler({
        store: context.store,
        source,
        host,
        intervalMs: config.probe_interval_seconds * 1000,
        logger: context.logger,
        usage,
        processes,
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
          readModel.close();
        },
      };
    },
  };
}

/** Who holds each slot of this host now, per the allocation projection. */
function holdersOf(readModel: LazyReadModel, host: string): Map<string, UsageHolder> {
  return readModel.use((model) => {
    const holders = new Map<string, UsageHolder>();
    for (const row of slotStatus(model, host)) {
      if (row.user === null && row.container_id === null) continue;
      holders.set(row.slot, { containerId: row.container_id, user: row.user });
    }
    return holders;
  }, new Map());
}

/** ds01d's one gpu-sampler (services.ts registers it; others read the inventory it records on the log). */
export const gpuSamplerService = createGpuSamplerService();
