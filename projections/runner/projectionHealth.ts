import type { EventStore } from '@ds01/event-store';
import type { Projection } from './projection.ts';
import type { Checkpoint } from './projectionsDb.ts';

export type ProjectionHealthState = 'up to date' | 'behind' | 'never ran' | 'failed' | 'rebuild pending';

/** How one projection stands against the log, for `ds01 projections list` and `ds01 store stats`. */
export interface ProjectionHealth {
  name: string;
  description: string;
  /** The version of the code, and the one that built the stored tables (null: never ran). */
  version: number;
  storedVersion: number | null;
  position: number;
  /** Events this projection reads that are in the log after its checkpoint (at most `lagLimit`). */
  lag: number;
  lagIsLowerBound: boolean;
  updatedAt: string | null;
  state: ProjectionHealthState;
  error: string | null;
}

/**
 * Compares each projection's checkpoint with the log. The lag counts the projection's own event
 * types only (a filtered projection's checkpoint stays on the last event it read), up to a limit so
 * that a projection far behind does not make the question slow.
 */
export async function projectionHealth(
  store: EventStore,
  projections: readonly Projection[],
  checkpoints: ReadonlyMap<string, Checkpoint>,
  lagLimit = 100_000,
): Promise<ProjectionHealth[]> {
  const health: ProjectionHealth[] = [];
  for (const projection of projections) {
    const checkpoint = checkpoints.get(projection.name);
    const position = checkpoint?.position ?? 0;
    let lag = 0;
    const filter = projection.eventTypes.length > 0 ? { eventTypes: projection.eventTypes } : {};
    for await (const _ of store.readAll({ after: position, filter, maxCount: lagLimit })) lag++;
    health.push({
      name: projection.name,
      description: projection.description,
      version: projection.version,
      storedVersion: checkpoint?.version ?? null,
      position,
      lag,
      lagIsLowerBound: lag >= lagLimit,
      updatedAt: checkpoint?.updatedAt ?? null,
      state: stateOf(projection, checkpoint, lag),
      error: checkpoint?.error ?? null,
    });
  }
  return health;
}

function stateOf(
  projection: Projection,
  checkpoint: Checkpoint | undefined,
  lag: number,
): ProjectionHealthState {
  if (!checkpoint) return 'never ran';
  if (checkpoint.error) return 'failed';
  if (checkpoint.version !== projection.version) return 'rebuild pending';
  return lag > 0 ? 'behind' : 'up to date';
}
