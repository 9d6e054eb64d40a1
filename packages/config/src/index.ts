export * from './configFileRead.ts';
export * from './ds01Config.ts';
export * from './gatewayConfig.ts';
export * from './gpusConfig.ts';
export * from './resourceLimits/index.ts';
export * from './telemetryConfig.ts';
export * from './yamlFile.ts';
