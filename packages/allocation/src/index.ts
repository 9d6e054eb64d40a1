export * from './errors.ts';
export * from './gpuAllocator.ts';
export * from './hostAllocator.ts';
export * from './inventorySource.ts';
export * from './limitsSource.ts';
export * from './ports.ts';
export * from './storedInventory.ts';
export * from './userStatus.ts';
