export * from './containerQueries.ts';
export * from './containersProjection.ts';
