import type { Readable } from 'node:stream';

/**
 * What the gateway does with one request, decided before anything reaches dockerd: refuse it, answer
 * it itself (the DS01 API), or forward the request it rebuilt from its own reading.
 */
export type Decision = Refusal | { kind: 'answer'; status: number; json: unknown } | Forward;

export interface Refusal {
  kind: 'refuse';
  status: number;
  message: string;
  /** A stable rule name for the AccessDenied event. */
  rule: string;
  /** What the request named (container, exec, volume...), as written. */
  target: string | null;
  /** A 404 passed on from dockerd's own lookup is not a refusal of the gateway: not recorded. */
  record?: boolean;
  /**
   * What a program may read beside the message (Docker's clients read only `message`): for a GPU
   * denial the allocator's reason (`{ code: 'over_quota', held, limit, ... }`), so that ds01 can say
   * what to do next.
   */
  details?: Record<string, unknown>;
}

/** Sees dockerd's whole JSON answer before the caller does; a Refusal returned replaces it. */
export type OnJson = (status: number, body: unknown) => Promise<Refusal | undefined>;

export interface Forward {
  kind: 'forward';
  method: string;
  /** Path and query re-encoded from the gateway's reading. */
  target: string;
  body: Buffer | Readable | undefined;
  /**
   * How dockerd's answer goes back: piped as it comes, filtered line by line (events), or read
   * whole and handed to `onJson` before it is passed on (create, exec create: the id is recorded).
   * `onJson` may answer a refusal instead: what dockerd did was undone (a create whose GPU grant
   * was lost meanwhile), and the caller is told why.
   */
  response:
    | { mode: 'pipe' }
    | { mode: 'lines'; keep: (line: unknown) => boolean }
    | { mode: 'json'; onJson: OnJson };
  /**
   * Piped answers: called once dockerd's stream has ended, before the caller's does; what it
   * returns is written last (a build's final JSON line: the image was over the size limit).
   */
  epilogue?: (status: number) => Promise<string | null>;
  /** Called with dockerd's status once it answered (or null when it failed): admin call records. */
  onDone?: (status: number | null) => void;
}

export const refuse = (
  status: number,
  rule: string,
  message: string,
  target: string | null = null,
): Refusal => ({ kind: 'refuse', status, rule, message, target });

export const pipe = (method: string, target: string, body?: Buffer | Readable): Forward => ({
  kind: 'forward',
  method,
  target,
  body,
  response: { mode: 'pipe' },
});
