export { createBindSources, isWithin } from './bindMounts.ts';
export * from './createBody.ts';
export * from './createContext.ts';
export { formatBytes } from './createLimits.ts';
export * from './createPolicy.ts';
export * from './createRules.ts';
export * from './events.ts';
export { NVIDIA_DEVICE_MOUNTS, withGrantedDevices } from './gpuRequests.ts';
