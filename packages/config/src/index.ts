export * from './ds01Config.ts';
export * from './gpusConfig.ts';
export * from './lifecycleConfig.ts';
export * from './notificationsConfig.ts';
export * from './resourceLimits/index.ts';
export * from './yamlFile.ts';
