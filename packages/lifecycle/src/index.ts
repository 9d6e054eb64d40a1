export * from './caughtUpRounds.ts';
export * from './lifecycleCommands.ts';
export * from './policySource.ts';
export * from './stateSource.ts';
