export {
  acquireDaemonLock,
  DaemonAlreadyRunningError,
  type DaemonLock,
  DataDirNotWritableError,
  readDaemonLock,
} from './daemonLock.ts';
export { HealthBoard, type HealthReading, type HealthSample } from './healthBoard.ts';
export { type MilestoneName, Milestones } from './milestones.ts';
export { PeriodicTask } from './periodicTask.ts';
export { ensurePrivateDirectory, UnsafeDirectoryError } from './privateDirectory.ts';
export { PrivateFileError, readPrivateFile, writeFileAtomically } from './privateFile.ts';
export type { RunningService, Service, ServiceContext } from './service.ts';
