import { readFileSync, type Stats, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Why a file DS01 keeps (the store, the read models) cannot be opened, in words that tell an
 * ordinary user the truth: a store in a folder only root and the ds01 group may read is not
 * "missing", and a data dir that is a FIFO is not "new". Undefined: it does not exist.
 */
export function whyUnreachable(path: string): string | undefined {
  try {
    statSync(path);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return `permission denied: ${whoMayRead(dirname(path))}`;
    if (code === 'ENOTDIR') return `${notAFolder(path)} is not a folder`;
    if (code === 'ENOENT') return undefined;
    return `cannot be examined (${code ?? (error as Error).message})`;
  }
}

/** The closest folder on the path that is not a folder (`/var/lib/ds01` a FIFO). */
function notAFolder(path: string): string {
  for (let dir = dirname(path); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      if (!statSync(dir).isDirectory()) return dir;
    } catch {
      // not there, or not ours to see: look further up
    }
  }
  return dirname(path);
}

/** "only root and the members of group ds01 may read /var/lib/ds01 (mode 0750)". */
export function whoMayRead(dir: string): string {
  let info: Stats;
  try {
    info = statSync(dir);
  } catch {
    return `${dir} is not readable by you; ask an admin to add you to the group that owns it`;
  }
  const mode = (info.mode & 0o7777).toString(8).padStart(4, '0');
  const owner = nameOf('/etc/passwd', info.uid) ?? `uid ${info.uid}`;
  const group = nameOf('/etc/group', info.gid) ?? `gid ${info.gid}`;
  const groupMay = (info.mode & 0o050) === 0o050;
  return groupMay
    ? `only ${owner} and the members of group ${group} may read ${dir} (mode ${mode}): ask an admin to add you to ${group}`
    : `only ${owner} may read ${dir} (mode ${mode}): run the command as ${owner}`;
}

function nameOf(file: string, id: number): string | undefined {
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const [name, , value] = line.split(':');
      if (name && Number(value) === id) return name;
    }
  } catch {
    // no such file: the number says it
  }
  return undefined;
}
