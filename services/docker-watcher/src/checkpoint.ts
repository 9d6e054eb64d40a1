import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Ds01Error } from '@ds01/errors';
import { readPrivateFile, writeFileAtomically } from '@ds01/service';

export class CheckpointFileError extends Ds01Error {
  override readonly name = 'CheckpointFileError';
}

/**
 * Where the watcher is in Docker's event stream: the timeNano of the last Docker event whose domain
 * events are durable. Written (atomically: temp file + rename) only after the append, so after a crash
 * the watcher resumes at or before what it had done — re-reading is harmless, the event ids are
 * deterministic — and never after.
 */
export class WatcherCheckpoint {
  readonly path: string;
  #timeNano: string | undefined;

  constructor(path: string) {
    this.path = path;
    this.#timeNano = read(path);
  }

  get timeNano(): string | undefined {
    return this.#timeNano;
  }

  /** Moves forward only (replayed events are older than the checkpoint). */
  advance(timeNano: string): void {
    if (this.#timeNano !== undefined && BigInt(timeNano) <= BigInt(this.#timeNano)) return;
    mkdirSync(dirname(this.path), { recursive: true });
    // A temp name nobody can guess, created O_EXCL|O_NOFOLLOW: no planted link is written through.
    writeFileAtomically(this.path, `${JSON.stringify({ timeNano })}\n`);
    this.#timeNano = timeNano;
  }
}

function read(path: string): string | undefined {
  const text = readPrivateFile(path);
  if (text === undefined) return undefined;
  try {
    const timeNano = (JSON.parse(text) as { timeNano?: unknown }).timeNano;
    if (typeof timeNano === 'string' && /^\d+$/.test(timeNano)) return timeNano;
  } catch {
    // fall through to the error below
  }
  throw new CheckpointFileError(
    `${path}: not a docker-watcher checkpoint (expected {"timeNano":"<digits>"}, found ${JSON.stringify(text.slice(0, 80))}). ` +
      'Delete it: the watcher then reconciles with `docker ps -a` and goes on from now, losing nothing that still exists.',
  );
}
