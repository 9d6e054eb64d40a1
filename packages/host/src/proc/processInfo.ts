import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What /proc says about one process, for attribution. */
export interface ProcessInfo {
  pid: number;
  /** Start time in clock ticks after boot (/proc/<pid>/stat field 22): with the pid, one process. */
  startTicks: number;
  /** The real uid (/proc/<pid>/status `Uid:`, first field). */
  uid: number;
  /** /proc/<pid>/cgroup as written. */
  cgroup: string;
  /** The arguments joined by spaces; '' for a kernel thread or a zombie. */
  commandLine: string;
}

/** "<pid>:<start ticks>": a key that a reused pid does not share. */
export const processKeyOf = (info: Pick<ProcessInfo, 'pid' | 'startTicks'>) =>
  `${info.pid}:${info.startTicks}`;

/**
 * Reads a process's /proc entry (of `procRoot`, /proc by default), or null when the process is not
 * there (ended, or in a pid namespace this one cannot see). Other errors (EACCES) are thrown.
 */
export async function readProcessInfo(pid: number, procRoot = '/proc'): Promise<ProcessInfo | null> {
  const dir = join(procRoot, String(pid));
  try {
    const [stat, status, cgroup, cmdline] = await Promise.all([
      readFile(join(dir, 'stat'), 'utf8'),
      readFile(join(dir, 'status'), 'utf8'),
      readFile(join(dir, 'cgroup'), 'utf8'),
      readFile(join(dir, 'cmdline')),
    ]);
    const startTicks = startTicksOf(stat);
    const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
    if (startTicks === null || uid === undefined) return null;
    return {
      pid,
      startTicks,
      uid: Number(uid),
      cgroup,
      commandLine: cmdline.toString('utf8').split('\0').filter(Boolean).join(' '),
    };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return null;
    throw error;
  }
}

/** Field 22 of /proc/<pid>/stat; the command (field 2) is in parentheses and may hold spaces and ')'. */
export function startTicksOf(stat: string): number | null {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After ")": field 3 (state) is fields[0], so field 22 is fields[19].
  const ticks = fields[19];
  return ticks !== undefined && /^\d+$/.test(ticks) ? Number(ticks) : null;
}

/**
 * Sends a signal to the process a key names, only if that pid is still that process (a pid reused
 * after it ended is left alone): 'sent', 'gone' (ended or reused), or throws (EPERM).
 */
export async function signalProcess(
  processKey: string,
  signal: 'SIGTERM' | 'SIGKILL',
  procRoot = '/proc',
): Promise<'sent' | 'gone'> {
  const [pid, ticks] = processKey.split(':').map(Number);
  const info = await readProcessInfo(pid!, procRoot);
  if (!info || info.startTicks !== ticks) return 'gone';
  try {
    process.kill(pid!, signal);
    return 'sent';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return 'gone';
    throw error;
  }
}
