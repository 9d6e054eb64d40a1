export * from './docker/index.ts';
export * from './nvidia/index.ts';
export * from './process/index.ts';
export * from './terminals/terminals.ts';
