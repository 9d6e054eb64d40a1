export * from './allocatorService.ts';
export * from './gpuHoldManager.ts';
export * from './positionCheckpoint.ts';
export * from './switchOver.ts';
