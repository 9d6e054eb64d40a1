export * from './commands.ts';
export { denialMessage, describeRequest, formatGpuEquivalents } from './denials.ts';
export { containerStoppedAt, ds01InfraDevices, ds01InfraGrantTime } from './ds01InfraDevices.ts';
export * from './errors.ts';
export * from './events.ts';
export { decideGpuPool, gpuPoolDecider } from './gpuPoolDecider.ts';
export {
  compareSlots,
  containerSlots,
  evolvePool,
  type GpuPoolEvent,
  gpuEquivalentsHeldBy,
  type Hold,
  type Holding,
  initialPoolState,
  type PendingGrant,
  type PoolSnapshot,
  type PoolState,
  snapshotOfPoolState,
} from './poolState.ts';
