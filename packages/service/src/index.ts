export {
  acquireDaemonLock,
  DaemonAlreadyRunningError,
  type DaemonLock,
  DataDirNotWritableError,
  readDaemonLock,
} from './daemonLock.ts';
export { ensurePrivateDirectory, UnsafeDirectoryError } from './privateDirectory.ts';
export { PrivateFileError, readPrivateFile, writeFileAtomically } from './privateFile.ts';
export type { RunningService, Service, ServiceContext } from './service.ts';
