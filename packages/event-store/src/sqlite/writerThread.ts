// The store's writer thread: owns the write connection and commits appends in groups, so that SQLite's
// fsync never blocks the event loop of the process that appends (ds01d's watchers, later its gateway).
// Appends that arrive while a commit is flushing wait for the next one, together.
import { parentPort, workerData } from 'node:worker_threads';
import { type AppendOutcome, type OpenAppend, SqliteAppender, unpackAppend } from './sqliteAppender.ts';
import { openDatabase } from './storeFile.ts';
import {
  serializeStoreError,
  type WholeRequest,
  type WriterPart,
  type WriterReply,
  type WriterRequest,
} from './writerMessages.ts';

const { path, busyTimeoutMs } = workerData as { path: string; busyTimeoutMs: number };
const port = parentPort!;
const appender = new SqliteAppender(openDatabase(path, false, busyTimeoutMs), path);
let queue: WholeRequest[] = [];
/** The streamed append in progress; `append` undefined once it failed (its later parts are dropped). */
let streaming: { id: number; append: OpenAppend | undefined } | undefined;

port.on('message', (request: WriterRequest) => {
  if ('part' in request || 'abort' in request) {
    onPart(request);
    return;
  }
  queue.push(request);
  if (queue.length === 1 && !streaming) setImmediate(commitQueued);
});

/**
 * Parts are written as they arrive, so that the thread inserts one part while the caller validates
 * the next. What was queued before the first part is committed first: appends stay in the order asked.
 */
function onPart(request: WriterPart): void {
  if ('abort' in request) {
    if (streaming?.id === request.id) {
      streaming.append?.rollback();
      endStream();
    }
    return;
  }
  if (!streaming) {
    commitQueued();
    streaming = { id: request.id, append: undefined };
    try {
      streaming.append = appender.open(request.part.streamId, request.part.expected);
    } catch (error) {
      reply(request.id, { error });
    }
  }
  if (streaming.id !== request.id) {
    // Cannot happen (a streamed append's parts are sent from one synchronous loop): refuse, loudly.
    reply(request.id, {
      error: new Error(`append ${request.id} arrived inside streamed append ${streaming.id}`),
    });
    return;
  }
  const { append } = streaming;
  if (append) {
    try {
      append.add(unpackAppend(request.part));
      if (request.last) reply(request.id, append.commit());
    } catch (error) {
      append.rollback();
      streaming.append = undefined;
      reply(request.id, { error });
    }
  }
  if (request.last) endStream();
}

function endStream(): void {
  streaming = undefined;
  if (queue.length > 0) setImmediate(commitQueued);
}

function reply(id: number, outcome: AppendOutcome): void {
  port.postMessage([
    'ok' in outcome
      ? { id, ok: outcome.ok, inserted: outcome.inserted }
      : { id, error: serializeStoreError(outcome.error) },
  ] satisfies WriterReply[]);
}

function commitQueued(): void {
  if (queue.length === 0 || streaming) return;
  const group = queue;
  queue = [];
  let outcomes: AppendOutcome[];
  try {
    outcomes = appender.commit(group.map((request) => request.appends.map(unpackAppend)));
  } catch (error) {
    outcomes = group.map(() => ({ error }));
  }
  const replies: WriterReply[] = outcomes.map((outcome, i) =>
    'ok' in outcome
      ? { id: group[i]!.id, ok: outcome.ok, inserted: outcome.inserted }
      : { id: group[i]!.id, error: serializeStoreError(outcome.error) },
  );
  port.postMessage(replies);
}
