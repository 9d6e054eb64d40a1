import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Ds01Error } from '@ds01/errors';
import { readPrivateFile } from './privateFile.ts';

/** Another ds01d holds the data dir: two daemons would both project and watch the same host. */
export class DaemonAlreadyRunningError extends Ds01Error {
  override name = 'DaemonAlreadyRunningError';
  readonly pid: number;
  readonly lockFile: string;
  constructor(lockFile: string, pid: number) {
    super(`another ds01d (pid ${pid}) is running on this data dir (lock file ${lockFile})`, {
      hint: `stop it first (kill ${pid}, or systemctl stop ds01d), or give this one another --data-dir`,
    });
    this.pid = pid;
    this.lockFile = lockFile;
  }
}

/** The data dir cannot take the lock file: its disk is read-only or full. ds01d writes nothing else either. */
export class DataDirNotWritableError extends Ds01Error {
  override name = 'DataDirNotWritableError';
  readonly dataDir: string;
  constructor(dataDir: string, cause: NodeJS.ErrnoException) {
    const readOnly = cause.code === 'EROFS';
    super(
      `the data dir ${dataDir} is on a ${readOnly ? 'read-only' : 'full'} disk (${cause.code} writing the pid lock); ` +
        'ds01d changed nothing',
      {
        cause,
        hint: readOnly
          ? `remount it read-write (\`findmnt -T ${dataDir}\`, then \`mount -o remount,rw <its mount point>\`) and start ds01d again`
          : `free space on it (\`df -h ${dataDir}\`) and start ds01d again`,
      },
    );
    this.dataDir = dataDir;
  }
}

export interface DaemonLock {
  readonly path: string;
  release(): void;
}

/**
 * Takes the data dir's pid lock: a file holding our pid, created exclusively. A lock left by a
 * process that no longer exists (killed -9, power loss) is taken over.
 */
export function acquireDaemonLock(path: string): DaemonLock {
  mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      return {
        path,
        release: () => {
          if (readLockPid(path) === process.pid) rmSync(path, { force: true });
        },
      };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EROFS' || code === 'ENOSPC') {
        // A full disk may create the file and refuse its pid: an empty lock would outlive us.
        if (code === 'ENOSPC') rmSync(path, { force: true });
        throw new DataDirNotWritableError(dirname(path), error as NodeJS.ErrnoException);
      }
      if (code !== 'EEXIST') throw error;
    }
    const holder = readDaemonLock(path);
    if (holder) throw new DaemonAlreadyRunningError(path, holder.pid);
    // Stale: move it aside (rename is atomic, so two starters cannot both remove a fresh lock).
    try {
      renameSync(path, `${path}.stale`);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EROFS') throw new DataDirNotWritableError(dirname(path), error as NodeJS.ErrnoException);
      // Another starter moved it first; try again.
    }
  }
  const holder = readDaemonLock(path);
  throw new DaemonAlreadyRunningError(path, holder?.pid ?? -1);
}

/** The running ds01d that holds this lock file, or null (no file, or its process is gone). */
export function readDaemonLock(path: string): { pid: number } | null {
  const pid = readLockPid(path);
  if (pid === null || !isAlive(pid) || !looksLikeDs01d(pid)) return null;
  return { pid };
}

function readLockPid(path: string): number | null {
  try {
    const pid = Number.parseInt((readPrivateFile(path) ?? '').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** A pid reused by an unrelated process after a crash does not hold the lock. */
function looksLikeDs01d(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('ds01d');
  } catch {
    return true; // no /proc (or not ours to read): trust the pid
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
