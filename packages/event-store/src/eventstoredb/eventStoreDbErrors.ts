import {
  AccessDeniedError,
  DeadlineExceededError,
  NotLeaderError,
  UnavailableError,
} from '@kurrent/kurrentdb-client';
import { EventStoreError, StoreUnavailableError } from '../errors.ts';

/** Translates the client's errors into StoreUnavailableError naming the server and what to do. */
export function asEventStoreDbError(location: string, error: unknown): unknown {
  if (error instanceof EventStoreError) return error;
  if (error instanceof UnavailableError || error instanceof DeadlineExceededError) {
    return new StoreUnavailableError(
      location,
      `cannot be reached (${(error as Error).message}): check that EventStoreDB is running and DS01_EVENTSTORE_URL`,
      { cause: error },
    );
  }
  if (error instanceof NotLeaderError) {
    return new StoreUnavailableError(
      location,
      'answered from a follower node: list the cluster in the connection string',
      {
        cause: error,
      },
    );
  }
  if (error instanceof AccessDeniedError) {
    return new StoreUnavailableError(
      location,
      'refused access: check the user and password in the connection string',
      {
        cause: error,
      },
    );
  }
  if (error instanceof Error) return new StoreUnavailableError(location, error.message, { cause: error });
  return error;
}
