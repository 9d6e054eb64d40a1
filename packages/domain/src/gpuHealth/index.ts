export * from './events.ts';
export * from './gpuHealthDecider.ts';
