import { allocatorService } from '@ds01/allocator';
import { auditSealerService } from '@ds01/audit-sealer';
import { dockerWatcherService } from '@ds01/docker-watcher';
import { exporterService } from '@ds01/exporter';
import { gpuSamplerService } from '@ds01/gpu-sampler';
import { policyWatcherService } from '@ds01/policy-watcher';
import type { Service } from '@ds01/service';

/**
 * Every service ds01d runs, in start order (they stop in reverse). The projection runner is not
 * one of them: it runs first, so services start on caught-up read models.
 * Add a service: import it and add one line.
 */
export const services: readonly Service[] = [
  policyWatcherService,
  dockerWatcherService,
  gpuSamplerService,
  allocatorService,
  exporterService,
  auditSealerService,
];
