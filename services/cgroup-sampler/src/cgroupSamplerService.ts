import { telemetryConfigOf } from '@ds01/config';
import { CgroupFs } from '@ds01/host';
import { containerOwner, LazyReadModel } from '@ds01/projections';
import type { RunningService, Service, ServiceContext } from '@ds01/service';
import { CgroupSampler } from './cgroupSampler.ts';

/**
 * The cgroup sampler as a ds01d service: samples the cgroups under telemetry.cgroups.root every
 * telemetry.cgroups.interval_seconds, windows of telemetry.window_seconds.
 */
export const cgroupSamplerService: Service = {
  name: 'cgroup-sampler',
  async start(context: ServiceContext): Promise<RunningService> {
    const telemetry = telemetryConfigOf(context.config.yaml);
    const cgroups = new CgroupFs(telemetry.cgroups.root);
    const readModel = new LazyReadModel(
      context.paths.projectionsDb,
      context.logger,
      'container usage windows record no owners',
    );
    const sampler = new CgroupSampler({
      store: context.store,
      cgroups,
      host: context.config.host,
      logger: context.logger,
      intervalMs: telemetry.cgroups.interval_seconds * 1000,
      windowMs: telemetry.window_seconds * 1000,
      ownerOf: (containerId) => readModel.use((model) => containerOwner(model, containerId), null),
    });
    sampler.start();
    context.logger.info(
      { root: cgroups.root, version: cgroups.version, intervalSeconds: telemetry.cgroups.interval_seconds },
      `cgroup-sampler started (cgroup v${cgroups.version} at ${cgroups.root})`,
    );
    return {
      async stop() {
        await sampler.stop();
        readModel.close();
      },
    };
  },
};
