export * from './ds01Config.ts';
export * from './yamlFile.ts';
export * from './resourceLimits/index.ts';
