export * from './accountWatcher.ts';
export * from './lifecycleTicker.ts';
export * from './service.ts';
