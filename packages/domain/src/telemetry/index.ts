export * from './containerActivity.ts';
export * from './containerResourceWindows.ts';
export * from './events.ts';
export * from './gpuUsageWindows.ts';
export * from './usageWindow.ts';
