export * from './auditChain.ts';
export * from './auditProjection.ts';
export * from './auditQueries.ts';
export * from './auditSeal.ts';
export * from './auditVerification.ts';
export * from './describeEvent.ts';
