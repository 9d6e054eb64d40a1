export {
  acquireDaemonLock,
  DaemonAlreadyRunningError,
  type DaemonLock,
  DataDirNotWritableError,
  readDaemonLock,
} from './daemonLock.ts';
export type { RunningService, Service, ServiceContext } from './service.ts';
