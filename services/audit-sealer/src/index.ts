export * from './auditSealerService.ts';
