export * from './diffInventories.ts';
export * from './events.ts';
export * from './gpuInventoryDecider.ts';
export * from './inventory.ts';
