export * from './lifecycleProjection.ts';
