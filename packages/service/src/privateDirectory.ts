import { chmodSync, lstatSync, mkdirSync, realpathSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Ds01Error } from '@ds01/errors';

/**
 * ds01d runs as root and writes into its data dir: whoever else may write there (or into a folder
 * above it) can plant a link where ds01d is about to write and have root write through it, or swap
 * the store for one of their own. So ds01d refuses to run on a folder that is not its own, the way
 * OpenSSH refuses a key in a group-writable folder: said with what to do, before anything is written.
 */
export class UnsafeDirectoryError extends Ds01Error {
  override name = 'UnsafeDirectoryError';
  readonly dir: string;
  constructor(what: string, dir: string, problem: string, hint: string) {
    super(`the ${what} ${dir} ${problem}; ds01d runs as root and does not use it`, { hint });
    this.dir = dir;
  }
}

const GROUP_OR_OTHER_WRITE = 0o022;
const STICKY = 0o1000;

/**
 * Checks that `dir` (created 0750 when missing) and every folder above it are writable only by
 * root or by this process's user: owned by one of them, without group or other write permission
 * (a folder above may be world-writable with the sticky bit, as /tmp is, when what it holds on the
 * way is owned by root or us: nobody else can rename it). Throws UnsafeDirectoryError.
 */
export function ensurePrivateDirectory(
  dir: string,
  what: string,
  options: { create?: boolean; uid?: number } = {},
): void {
  const uid = options.uid ?? process.geteuid?.() ?? 0;
  const path = resolve(dir);
  if (options.create) {
    const first = mkdirSync(path, { recursive: true, mode: 0o750 });
    // mkdir's mode passes through the umask: set it exactly on what was made here.
    if (first) for (let d = path; d.length >= first.length; d = dirname(d)) chmodSync(d, 0o750);
  }
  // The path as written (a link on the way is judged as itself: whoever made it can change it),
  // then the folder it really is.
  checkChain(path, what, uid);
  const real = realpathOf(path, what);
  if (real !== path) checkChain(real, what, uid);
}

function checkChain(path: string, what: string, uid: number): void {
  const trusted = (info: Stats) => info.uid === 0 || info.uid === uid;
  const info = statOf(path, what);
  if (!info.isDirectory() && !info.isSymbolicLink()) {
    throw new UnsafeDirectoryError(what, path, 'is not a folder', 'give ds01d a folder, e.g. /var/lib/ds01');
  }
  if (!trusted(info)) {
    throw new UnsafeDirectoryError(
      what,
      path,
      `is owned by uid ${info.uid}, not by root or ds01d's user`,
      `chown root: ${path} (its contents too, when they are DS01's: chown -R), or give ds01d another folder`,
    );
  }
  if (!info.isSymbolicLink() && info.mode & GROUP_OR_OTHER_WRITE) {
    throw new UnsafeDirectoryError(
      what,
      path,
      `is writable by ${info.mode & 0o002 ? 'every user' : 'its group'} (mode ${octal(info.mode)})`,
      `chmod go-w ${path} (DS01 makes its own folders 0750)`,
    );
  }
  let child = info;
  for (let parent = dirname(path); ; parent = dirname(parent)) {
    const above = statOf(parent, what);
    const sticky = (above.mode & STICKY) !== 0;
    const othersWrite = !above.isSymbolicLink() && (above.mode & GROUP_OR_OTHER_WRITE) !== 0;
    if (!trusted(above) || (othersWrite && !(sticky && trusted(child)))) {
      throw new UnsafeDirectoryError(
        what,
        path,
        `lies in ${parent}, which ${trusted(above) ? `others may write (mode ${octal(above.mode)})` : `uid ${above.uid} owns`}: they could move it and put another in its place`,
        `keep DS01's folders in folders only root writes (e.g. /var/lib/ds01, /etc/ds01), or chmod go-w ${parent}`,
      );
    }
    if (parent === dirname(parent)) return;
    child = above;
  }
}

function statOf(path: string, what: string): Stats {
  try {
    return lstatSync(path);
  } catch (error) {
    throw new UnsafeDirectoryError(
      what,
      path,
      `cannot be examined (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      `create it (mkdir -m 0750 ${path}) or give ds01d another folder`,
    );
  }
}

function realpathOf(path: string, what: string): string {
  try {
    return realpathSync(path);
  } catch (error) {
    throw new UnsafeDirectoryError(
      what,
      path,
      `cannot be resolved (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      'give ds01d a folder that exists',
    );
  }
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}
