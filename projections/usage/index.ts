export * from './usagePeriod.ts';
export * from './usageProjection.ts';
export * from './usageQueries.ts';
