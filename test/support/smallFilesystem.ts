import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { dockerRequired } from './docker.ts';

/**
 * A real, small filesystem (a tmpfs of a few MiB) that a test can fill up, free, and turn read-only
 * and back, for what DS01 does when its data dir's disk is full or read-only. Needs root (mount).
 *
 *   describeOnSmallFilesystem('ds01 on a full disk', () => {
 *     let fs: SmallFilesystem;
 *     beforeAll(() => { fs = SmallFilesystem.mount(); });
 *     afterAll(() => fs?.unmount());
 *     it('...', () => { fs.fill(); ...; fs.free(); });
 *   });
 */
export class SmallFilesystem {
  /** The mount point. */
  readonly dir: string;
  readonly #filler: string;

  private constructor(dir: string) {
    this.dir = dir;
    this.#filler = join(dir, 'filler');
  }

  /** Mounts a fresh tmpfs of `sizeMiB` on a new folder under the temp dir. */
  static mount(sizeMiB = 16): SmallFilesystem {
    const dir = mkdtempSync(join(tmpdir(), 'ds01-small-fs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0755`, 'tmpfs', dir]);
    return new SmallFilesystem(dir);
  }

  /** Writes a filler file until the disk refuses (ENOSPC): nothing more fits after this. */
  fill(): void {
    const fd = openSync(this.#filler, 'a');
    const chunk = Buffer.alloc(64 * 1024);
    try {
      for (let size = chunk.length; size >= 1; size = Math.floor(size / 2)) {
        for (;;) {
          try {
            writeSync(fd, chunk, 0, size);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw error;
          }
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Removes the filler: the space is back. */
  free(): void {
    rmSync(this.#filler, { force: true });
  }

  /**
   * Remounts it read-only. The kernel refuses (EBUSY) while any process has a file on it open for
   * writing, so a running ds01d must be stopped first: a live switch to read-only only happens
   * when the kernel forces it (a disk error under errors=remount-ro), which a test cannot cause here.
   */
  remountReadOnly(): void {
    execFileSync('mount', ['-o', 'remount,ro', this.dir]);
  }

  remountReadWrite(): void {
    execFileSync('mount', ['-o', 'remount,rw', this.dir]);
  }

  /** Unmounts (lazily when something still holds it) and removes the folder. Never throws. */
  unmount(): void {
    try {
      execFileSync('umount', [this.dir], { stdio: 'ignore' });
    } catch {
      try {
        execFileSync('umount', ['-l', this.dir], { stdio: 'ignore' });
      } catch {
        // Not mounted (any more): only the folder is left.
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const why = smallFilesystemUnavailable();

/** Why this process cannot mount a tmpfs, or undefined when it can. */
function smallFilesystemUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a small tmpfs needs root (run the suite with sudo)';
  try {
    SmallFilesystem.mount(1).unmount();
    return undefined;
  } catch (error) {
    return `mount -t tmpfs failed: ${(error as Error).message.split('\n')[0]}`;
  }
}

/**
 * A suite that needs a small filesystem. Without root it is skipped saying why, except in CI or
 * under scripts/test.sh (DS01_TEST_REQUIRE_DOCKER=1), where it fails instead: a skipped disk-full
 * suite there would pass by not running.
 */
export function describeOnSmallFilesystem(name: string, body: () => void): void {
  if (!why) {
    describe(name, body);
    return;
  }
  if (dockerRequired()) {
    describe(name, () => {
      it('mounts a small filesystem', () => {
        throw new Error(`${name}: ${why}`);
      });
    });
    return;
  }
  console.warn(`skipping "${name}": ${why}`);
  describe.skip(`${name} [skipped: ${why}]`, () => {
    it('needs a small filesystem', () => {});
  });
}
