export * from './events.ts';
export * from './usageWindow.ts';
