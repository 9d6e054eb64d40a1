export * from './checkpoint.ts';
export * from './dockerWatcher.ts';
export * from './knownContainers.ts';
export * from './service.ts';
