export * from './bareMetalGrants.ts';
export * from './cgroupContainer.ts';
export * from './processInfo.ts';
