export * from './cgroupFs.ts';
export * from './cgroupReading.ts';
export * from './netDev.ts';
