export * from './enforcer.ts';
export * from './service.ts';
