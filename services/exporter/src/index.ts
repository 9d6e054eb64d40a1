export * from './exporter.ts';
export * from './exporterService.ts';
export * from './metrics.ts';
export * from './snapshot.ts';
export * from './usageApi.ts';
