import type { Writable } from 'node:stream';

const watched = new WeakMap<Writable, AbortController>();

/**
 * Aborts when whoever reads this stream closes it (`ds01 … | head -1`): the write fails with EPIPE.
 * The error is handled here, once per stream, so that it never surfaces as an unhandled 'error'
 * event with a stack; commands stop writing and end quietly. Other write errors are rethrown.
 */
export function readerGone(stream: Writable): AbortSignal {
  let gone = watched.get(stream);
  if (!gone) {
    const controller = new AbortController();
    gone = controller;
    watched.set(stream, controller);
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      controller.abort('reader-gone');
    });
  }
  return gone.signal;
}
