import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';

/**
 * How DS01 reads a configuration file: every file it reads is input a person wrote, and ds01d reads
 * it as root. So a file is read only when it is a regular file no bigger than a limit (a 200 MB file
 * must not cost gigabytes of memory, a FIFO must not hang the reader), and a symbolic link is
 * followed only when it stays inside the configuration folder (a link to /etc/shadow must never
 * make a root process print its lines). A refusal says why without a byte of the file.
 */

/** Default size limit of one configuration file: real ones are a few KiB. */
export const DEFAULT_CONFIG_MAX_BYTES = 4 * 1024 * 1024;

/** The size limit: DS01_CONFIG_MAX_BYTES when it is a positive whole number, else the default. */
export function configMaxBytes(env: Record<string, string | undefined> = process.env): number {
  const value = Number(env['DS01_CONFIG_MAX_BYTES']);
  return Number.isSafeInteger(value) && value > 0 ? value : DEFAULT_CONFIG_MAX_BYTES;
}

export interface ConfigReadOptions {
  /** The configuration folder: a symbolic link may point anywhere inside it, nowhere else. */
  root: string;
  /** Default: configMaxBytes(). */
  maxBytes?: number;
}

export type ConfigRead =
  | { kind: 'read'; bytes: Buffer }
  | { kind: 'absent' }
  /** Exists but may not or cannot be read: why, in words that never quote the file. */
  | { kind: 'refused'; why: string; code?: string };

/** Reads one configuration file as the module comment says; never throws. */
export function readConfigFile(file: string, options: ConfigReadOptions): ConfigRead {
  const maxBytes = options.maxBytes ?? configMaxBytes();
  let target: string;
  try {
    lstatSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'absent' };
    return { kind: 'refused', why: reasonOf(error), ...(code ? { code } : {}) };
  }
  // The file itself or a folder on its way (groups/) may be a link: where it really is decides.
  let root: string;
  try {
    target = realpathSync(file);
    root = realpathSync(options.root);
  } catch {
    return { kind: 'refused', why: 'is a symbolic link that leads nowhere', code: 'ENOENT' };
  }
  const inside = relative(root, target);
  if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    return {
      kind: 'refused',
      why: `is a symbolic link to ${target}, outside the configuration folder ${root}; DS01 does not follow it (copy the file into the folder instead)`,
      code: 'ELINKOUT',
    };
  }
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading would wait for a writer forever. O_NOFOLLOW: a link
    // swapped in since the check above is not followed.
    fd = openSync(target, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'absent' };
    if (code === 'ELOOP') return { kind: 'refused', why: 'became a symbolic link while it was read', code };
    return { kind: 'refused', why: reasonOf(error), ...(code ? { code } : {}) };
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) {
      return { kind: 'refused', why: `is not a regular file (${kindOf(info)})`, code: 'ENOTREG' };
    }
    if (info.size > maxBytes) return tooLarge(info.size, maxBytes);
    // Read at most one byte past the limit: a file that grows while it is read is still caught.
    const buffer = Buffer.alloc(Math.min(info.size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > maxBytes) return tooLarge(length, maxBytes);
      if (length === buffer.length) break;
    }
    return { kind: 'read', bytes: buffer.subarray(0, length) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { kind: 'refused', why: reasonOf(error), ...(code ? { code } : {}) };
  } finally {
    closeSync(fd);
  }
}

function tooLarge(size: number, maxBytes: number): ConfigRead {
  return {
    kind: 'refused',
    why: `is ${mib(size)}, over the ${mib(maxBytes)} a configuration file may have (DS01_CONFIG_MAX_BYTES); nothing of it was read`,
    code: 'EFBIG',
  };
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${bytes} bytes`;
}

/** Why a read failed: permission denied says so plainly (it is not "missing"); a bare phrase for EACCES. */
function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a folder, not a file';
  return `cannot be read (${code ?? (error as Error).message})`;
}

function kindOf(info: ReturnType<typeof fstatSync>): string {
  if (info.isFIFO()) return 'a FIFO';
  if (info.isDirectory()) return 'a folder';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'not a file';
}
