export * from './errors.ts';
export * from './gpuAllocator.ts';
export * from './inventorySource.ts';
export * from './ports.ts';
export * from './userStatus.ts';
