import type { AppendResult, ExpectedRevision } from '../envelope.ts';
import {
  EventIdConflictError,
  StoreUnavailableError,
  type StoreUnavailableReason,
  WrongExpectedRevisionError,
} from '../errors.ts';
import type { PackedAppend } from './sqliteAppender.ts';

/** What the store sends its writer thread: a whole request, or a part of a streamed append. */
export type WriterRequest = WholeRequest | WriterPart;

export interface WholeRequest {
  id: number;
  /** One stream's append, or a multi-stream batch committed whole. */
  appends: PackedAppend[];
}

/**
 * A large append arrives in parts, in order and one after another (the store sends them from one
 * synchronous loop): the first opens a transaction of its own, each inserts its events, the last
 * commits and is answered. `abort`: the caller refused a later part (its validation failed), so the
 * transaction is rolled back and nothing is answered.
 */
export type WriterPart = { id: number; part: PackedAppend; last: boolean } | { id: number; abort: true };

/** What the writer thread answers, one per request. */
export type WriterReply =
  | { id: number; ok: AppendResult[]; inserted: number }
  | { id: number; error: SerializedError };

/**
 * An error crossing the thread boundary (schema errors never do: appends are validated before they are
 * sent): structured clone keeps an Error's message but not its class
 * or fields, and callers tell WrongExpectedRevisionError from EventIdConflictError by class.
 */
export type SerializedError =
  | {
      kind: 'WrongExpectedRevisionError';
      message: string;
      streamId: string;
      expected: ExpectedRevision;
      actual: number | 'no_stream';
    }
  | { kind: 'EventIdConflictError'; message: string; eventId: string; streamId: string }
  | { kind: 'StoreUnavailableError'; message: string; location: string; reason: StoreUnavailableReason }
  | { kind: 'Error'; message: string; name: string };

export function serializeStoreError(error: unknown): SerializedError {
  if (error instanceof WrongExpectedRevisionError) {
    const { message, streamId, expected, actual } = error;
    return { kind: 'WrongExpectedRevisionError', message, streamId, expected, actual };
  }
  if (error instanceof EventIdConflictError) {
    const { message, eventId, streamId } = error;
    return { kind: 'EventIdConflictError', message, eventId, streamId };
  }
  if (error instanceof StoreUnavailableError) {
    const { message, location, reason } = error;
    return { kind: 'StoreUnavailableError', message, location, reason };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  return { kind: 'Error', message: e.message, name: e.name };
}

/** The error again, of its class, with the writer thread's message. */
export function deserializeStoreError(error: SerializedError): Error {
  let revived: Error;
  switch (error.kind) {
    case 'WrongExpectedRevisionError':
      revived = new WrongExpectedRevisionError(error.streamId, error.expected, error.actual);
      break;
    case 'EventIdConflictError':
      revived = new EventIdConflictError(error.eventId, error.streamId, '');
      break;
    case 'StoreUnavailableError':
      revived = new StoreUnavailableError(error.location, '', { reason: error.reason });
      break;
    case 'Error':
      revived = new Error();
      revived.name = error.name;
      break;
  }
  revived.message = error.message;
  return revived;
}
