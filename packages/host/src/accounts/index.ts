export * from './lookupAccount.ts';
