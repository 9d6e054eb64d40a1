import { allocationProjection } from './allocation/allocationProjection.ts';
import { auditProjection } from './audit/auditProjection.ts';
import { containersProjection } from './containers/containersProjection.ts';
import { lifecycleProjection } from './lifecycle/lifecycleProjection.ts';
import { metricsProjection } from './metrics/metricsProjection.ts';
import type { Projection } from './runner/projection.ts';
import { usageProjection } from './usage/usageProjection.ts';
import { usersProjection } from './users/usersProjection.ts';

/**
 * Every read model ds01d keeps and `ds01 projections rebuild` can rebuild.
 * A new projection: a folder `projections/<name>/` exporting a `defineProjection(...)`, added here.
 */
export const allProjections: readonly Projection[] = [
  usersProjection,
  allocationProjection,
  containersProjection,
  lifecycleProjection,
  usageProjection,
  metricsProjection,
  auditProjection,
];

export * from './allocation/index.ts';
export * from './audit/index.ts';
export * from './containers/index.ts';
export * from './lifecycle/index.ts';
export * from './metrics/metricsProjection.ts';
export * from './runner/errors.ts';
export * from './runner/lazyReadModel.ts';
export * from './runner/projection.ts';
export * from './runner/projectionHealth.ts';
export * from './runner/projectionRunner.ts';
export * from './runner/projectionSpec.ts';
export * from './runner/projectionsDb.ts';
export * from './runner/readModel.ts';
export * from './usage/index.ts';
export * from './users/usersProjection.ts';
