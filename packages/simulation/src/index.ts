export * from './appendSimulation.ts';
export * from './labSimulation.ts';
