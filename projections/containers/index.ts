export * from './containersProjection.ts';
