export * from './usageProjection.ts';
export * from './usageQueries.ts';
