export * from './cgroupSampler.ts';
export * from './cgroupSamplerService.ts';
