import { Worker } from 'node:worker_threads';
import type { AppendResult } from '../envelope.ts';
import { StoreClosedError, StoreUnavailableError } from '../errors.ts';
import type { PackedAppend } from './sqliteAppender.ts';
import { deserializeStoreError, type WriterReply, type WriterRequest } from './writerMessages.ts';

interface Waiting {
  resolve: (result: { ok: AppendResult[]; inserted: number }) => void;
  reject: (error: unknown) => void;
}

/**
 * The store's side of its writer thread (writerThread.ts): sends appends, matches the answers. The
 * thread starts with the first append (a store that only reads never starts one) and keeps the process
 * alive only while an append is in flight.
 */
export class SqliteWriter {
  readonly #path: string;
  readonly #worker: Worker;
  readonly #waiting = new Map<number, Waiting>();
  /** The appends not answered yet, for close() to wait on. */
  readonly #inFlight = new Set<Promise<unknown>>();
  #nextId = 0;
  #failure: Error | undefined;
  #closing: Promise<void> | undefined;
  #exited: Promise<void>;

  constructor(path: string, busyTimeoutMs: number) {
    this.#path = path;
    this.#worker = new Worker(new URL('./writerThread.ts', import.meta.url), {
      workerData: { path, busyTimeoutMs },
    });
    this.#worker.unref();
    this.#worker.on('message', (replies: WriterReply[]) => this.#settle(replies));
    this.#worker.on('error', (error) => this.#fail(error));
    this.#exited = new Promise((resolve) =>
      this.#worker.once('exit', (code) => {
        this.#fail(new Error(`it exited (code ${code})`));
        resolve();
      }),
    );
  }

  /** Commits the appends (one stream's, or a multi-stream batch) whole: all of them or none. */
  append(appends: PackedAppend[]): Promise<{ ok: AppendResult[]; inserted: number }> {
    if (this.#closing) return Promise.reject(new StoreClosedError(this.#path));
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    const request: WriterRequest = { id, appends };
    const answered = new Promise<{ ok: AppendResult[]; inserted: number }>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      if (this.#waiting.size === 1) this.#worker.ref();
      this.#worker.postMessage(request);
    });
    this.#inFlight.add(answered);
    const settled = () => this.#inFlight.delete(answered);
    answered.then(settled, settled);
    return answered;
  }

  /**
   * One stream's append sent in parts: `send` each part as soon as it is encoded (the thread inserts
   * it while the caller encodes the next), the last one with `last`; `abort` if a part cannot be
   * made (nothing is written then, and the answer is the caller's own error). Every part must be
   * sent before the caller yields to the event loop, so that no other append comes in between.
   */
  stream(): {
    send(part: PackedAppend, last: boolean): void;
    abort(): void;
    answered: Promise<{ ok: AppendResult[]; inserted: number }>;
  } {
    if (this.#closing) throw new StoreClosedError(this.#path);
    if (this.#failure) throw this.#failure;
    const id = this.#nextId++;
    let settle: Waiting | undefined;
    const answered = new Promise<{ ok: AppendResult[]; inserted: number }>((resolve, reject) => {
      settle = { resolve, reject };
    });
    this.#inFlight.add(answered);
    const settled = () => this.#inFlight.delete(answered);
    answered.then(settled, settled);
    this.#waiting.set(id, settle!);
    if (this.#waiting.size === 1) this.#worker.ref();
    return {
      send: (part, last) => this.#worker.postMessage({ id, part, last } satisfies WriterRequest),
      abort: () => {
        this.#worker.postMessage({ id, abort: true } satisfies WriterRequest);
        this.#waiting.delete(id);
        if (this.#waiting.size === 0) this.#worker.unref();
        // Nobody awaits it: the caller throws its own error.
        answered.catch(() => {});
        settle!.reject(new Error('aborted by the caller'));
      },
      answered,
    };
  }

  /**
   * Refuses new appends from now on (StoreClosedError, nothing sent to the thread), waits until every
   * append already sent is answered, then stops the thread. The thread is only stopped once it holds
   * no unanswered append: stopping it earlier could commit an append whose answer never arrives, and
   * the caller, told it failed, would record the same fact again under a new id.
   */
  close(): Promise<void> {
    this.#closing ??= this.#drainAndStop();
    return this.#closing;
  }

  async #drainAndStop(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled(this.#inFlight);
    this.#failure ??= new StoreClosedError(this.#path);
    await this.#worker.terminate();
    await this.#exited;
  }

  #settle(replies: readonly WriterReply[]): void {
    for (const reply of replies) {
      const waiting = this.#waiting.get(reply.id);
      if (!waiting) continue;
      this.#waiting.delete(reply.id);
      if ('ok' in reply) waiting.resolve({ ok: reply.ok, inserted: reply.inserted });
      else waiting.reject(deserializeStoreError(reply.error));
    }
    if (this.#waiting.size === 0) this.#worker.unref();
  }

  /** The thread failed or exited: every append in flight, and every later one, fails saying so. */
  #fail(error: Error): void {
    this.#failure ??= new StoreUnavailableError(this.#path, `its writer thread stopped: ${error.message}`, {
      cause: error,
    });
    for (const waiting of this.#waiting.values()) waiting.reject(this.#failure);
    this.#waiting.clear();
  }
}
