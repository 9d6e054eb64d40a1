export * from './docker/index.ts';
export * from './nvidia/index.ts';
