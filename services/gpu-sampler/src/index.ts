export * from './gpuSampler.ts';
export * from './gpuSamplerService.ts';
export * from './probeFailure.ts';
