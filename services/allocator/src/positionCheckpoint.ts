import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { AllocatorError } from '@ds01/allocation';
import { readPrivateFile, writeFileAtomically } from '@ds01/service';

/**
 * How far a process manager has read the log: the position of the last event whose commands are
 * durable. Written (temp file + rename) only after the commands were appended, so after a crash it
 * resumes at or before what it had done; the decisions it drives are idempotent, so re-reading one
 * event is harmless, and none is ever skipped.
 */
export class PositionCheckpoint {
  readonly path: string;
  #position: number;

  constructor(path: string) {
    this.path = path;
    this.#position = read(path);
  }

  get position(): number {
    return this.#position;
  }

  advance(position: number): void {
    if (position <= this.#position) return;
    mkdirSync(dirname(this.path), { recursive: true });
    // A temp name nobody can guess, created O_EXCL|O_NOFOLLOW: no planted link is written through.
    writeFileAtomically(this.path, `${JSON.stringify({ position })}\n`);
    this.#position = position;
  }
}

function read(path: string): number {
  const text = readPrivateFile(path);
  if (text === undefined) return 0;
  const position = (() => {
    try {
      return (JSON.parse(text) as { position?: unknown }).position;
    } catch {
      return undefined;
    }
  })();
  if (typeof position === 'number' && Number.isSafeInteger(position) && position >= 0) return position;
  throw new AllocatorError(
    `checkpoint ${path} is not {"position": N}: ${JSON.stringify(text.slice(0, 80))}`,
    {
      hint: 'delete it to re-read the log from the start (the hold decisions are idempotent)',
    },
  );
}
