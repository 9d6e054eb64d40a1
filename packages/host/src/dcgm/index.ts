export * from './dcgmMetrics.ts';
export * from './errors.ts';
export * from './readDcgmExporter.ts';
