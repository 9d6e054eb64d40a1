export * from './bareMetalPolicy.ts';
export * from './events.ts';
export * from './hostGpuProcessDecider.ts';
