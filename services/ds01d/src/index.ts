export {
  acquireDaemonLock,
  DaemonAlreadyRunningError,
  type DaemonLock,
  readDaemonLock,
} from './daemonLock.ts';
export type { RunningService, Service, ServiceContext } from './service.ts';
export { services } from './services.ts';
