import { allocatorService } from '@ds01/allocator';
import { auditSealerService } from '@ds01/audit-sealer';
import { cgroupSamplerService } from '@ds01/cgroup-sampler';
import { dockerWatcherService } from '@ds01/docker-watcher';
import { enforcerService } from '@ds01/enforcer';
import { exporterService } from '@ds01/exporter';
import { gatewayService } from '@ds01/gateway';
import { gpuSamplerService } from '@ds01/gpu-sampler';
import { lifecycleService } from '@ds01/lifecycle-service';
import { notifierService } from '@ds01/notifier';
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
  cgroupSamplerService,
  allocatorService,
  gatewayService,
  lifecycleService,
  enforcerService,
  notifierService,
  exporterService,
  auditSealerService,
];
