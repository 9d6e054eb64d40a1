export { type DaemonOptions, runDaemon } from './daemon.ts';
export {
  acquireDaemonLock,
  DaemonAlreadyRunningError,
  type DaemonLock,
  readDaemonLock,
} from './daemonLock.ts';
export { createLogger } from './logger.ts';
export { main } from './main.ts';
export type { RunningService, Service, ServiceContext } from './service.ts';
export { services } from './services.ts';
