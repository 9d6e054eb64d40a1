import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Ds01Error } from '@ds01/errors';

/**
 * Files ds01d writes and reads back in its data dir (checkpoints, the pid lock). A root process
 * must never write through a link someone planted where it was about to write: a new file is
 * created O_CREAT|O_EXCL|O_NOFOLLOW under a name nobody can guess, then renamed over the old one
 * (rename replaces a link, it does not follow it), and reading never follows a link either.
 */

/**
 * Replaces `path` with `text` atomically (temp file + rename in the same folder). Not fsynced: what
 * DS01 keeps this way (checkpoints) is a hint whose loss costs a harmless re-read, never a fact.
 */
export function writeFileAtomically(path: string, text: string, mode = 0o640): void {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
  const fd = openSync(
    temp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    mode,
  );
  try {
    writeSync(fd, text);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Why a file of DS01's own cannot be read back as it wrote it. */
export class PrivateFileError extends Ds01Error {
  override name = 'PrivateFileError';
}

/**
 * Reads a small file DS01 wrote itself; undefined when there is none. A link, or anything but a
 * regular file, or more than `maxBytes`, is refused (PrivateFileError) without reading it.
 */
export function readPrivateFile(path: string, maxBytes = 64 * 1024): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP')
      throw new PrivateFileError(
        `${path} is a symbolic link, which DS01 never writes: someone else made it; remove it`,
      );
    throw error;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new PrivateFileError(`${path} is not a regular file; remove it`);
    if (info.size > maxBytes)
      throw new PrivateFileError(`${path} is ${info.size} bytes, far more than DS01 writes there; remove it`);
    const buffer = Buffer.alloc(info.size);
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}
