export * from './events.ts';
export * from './policyDecider.ts';
export * from './policyDiff.ts';
