// The store's writer thread: owns the write connection and commits appends in groups, so that SQLite's
// fsync never blocks the event loop of the process that appends (ds01d's watchers, later its gateway).
// Appends that arrive while a commit is flushing wait for the next one, together.
import { parentPort, workerData } from 'node:worker_threads';
import { type AppendOutcome, type EncodedAppend, SqliteAppender } from './sqliteAppender.ts';
import { openDatabase } from './storeFile.ts';
import { serializeStoreError, type WriterReply, type WriterRequest } from './writerMessages.ts';

const { path, busyTimeoutMs } = workerData as { path: string; busyTimeoutMs: number };
const port = parentPort!;
const appender = new SqliteAppender(openDatabase(path, false, busyTimeoutMs), path);
let queue: WriterRequest[] = [];

port.on('message', (request: WriterRequest) => {
  queue.push(request);
  if (queue.length === 1) setImmediate(commitQueued);
});

function commitQueued(): void {
  const group = queue;
  queue = [];
  let outcomes: AppendOutcome[];
  try {
    outcomes = appender.commit(group.map((request): EncodedAppend[] => request.appends));
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
