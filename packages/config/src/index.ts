export * from './ds01Config.ts';
export * from './gpusConfig.ts';
export * from './observabilityConfig.ts';
export * from './resourceLimits/index.ts';
export * from './yamlFile.ts';
