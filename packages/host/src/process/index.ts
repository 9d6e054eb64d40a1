export * from './errors.ts';
export * from './runProgram.ts';
