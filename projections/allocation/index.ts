export * from './allocationProjection.ts';
export * from './allocationQueries.ts';
