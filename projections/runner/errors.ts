import { Ds01Error } from '@ds01/errors';
/** Base of the projection runner's errors, so callers can tell read-model trouble from bugs. */
export class ProjectionError extends Ds01Error {
  override name = 'ProjectionError';
}

/** The projections database cannot be opened or is not DS01's. */
export class ReadModelUnavailableError extends ProjectionError {
  override name = 'ReadModelUnavailableError';
  readonly location: string;
  constructor(location: string, problem: string, options?: { cause?: unknown }) {
    super(`projections database ${location}: ${problem}`, options);
    this.location = location;
  }
}

/** A projection's apply() threw: the projection stopped before this event (the others go on). */
export class ProjectionFailedError extends ProjectionError {
  override name = 'ProjectionFailedError';
  readonly projection: string;
  readonly position: number;
  readonly eventType: string;
  readonly streamId: string;
  constructor(
    projection: string,
    event: { position: number; type: string; streamId: string },
    cause: unknown,
  ) {
    super(
      `projection ${projection} failed on event ${event.type} at position ${event.position} ` +
        `(stream ${event.streamId}): ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
        hint: `the projection stopped before this event; fix it (bump its version to rebuild), then restart ds01d`,
      },
    );
    this.projection = projection;
    this.position = event.position;
    this.eventType = event.type;
    this.streamId = event.streamId;
  }
}

/** A projection name that is not registered in projections/index.ts. */
export class UnknownProjectionError extends ProjectionError {
  override name = 'UnknownProjectionError';
  constructor(name: string, known: readonly string[]) {
    super(`no projection is named '${name}'`, {
      hint: `known projections: ${known.join(', ') || '(none)'} (see \`ds01 projections list\`)`,
    });
  }
}
