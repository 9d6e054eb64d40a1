export { type DaemonOptions, runDaemon } from './daemon.ts';
export { createLogger } from './logger.ts';
export { main } from './main.ts';
export { services } from './services.ts';
