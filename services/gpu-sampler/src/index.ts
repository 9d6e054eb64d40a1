export * from './gpuSampler.ts';
export * from './gpuSamplerService.ts';
export * from './hostProcesses/bareMetalRules.ts';
export * from './hostProcesses/hostGpuProcessWatch.ts';
export * from './probeFailure.ts';
export * from './usage/gpuSampleOf.ts';
export * from './usage/gpuUsageRecorder.ts';
