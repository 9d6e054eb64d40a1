import type { DatabaseSync } from 'node:sqlite';
import { LifecycleRow } from '@ds01/projections';
import type { LifecycleStateSource, LoadedLifecycle } from './lifecycleCommands.ts';

/** Any connection to the projections database: ds01d's own, or a ReadModel's. */
export interface RowReader {
  rows(sql: string, ...params: (string | number | null)[]): unknown[];
}

export const dbRows = (db: DatabaseSync): RowReader => ({
  rows: (sql, ...params) => db.prepare(sql).all(...params),
});

/** Lifecycle states from the lifecycle read model. */
export class LifecycleReadModel implements LifecycleStateSource {
  readonly #reader: RowReader;
  constructor(reader: RowReader) {
    this.#reader = reader;
  }

  load(containerId: string): LoadedLifecycle | undefined {
    const row = this.#reader.rows('SELECT * FROM lifecycle WHERE container_id = ?', containerId)[0];
    if (!row) return undefined;
    const parsed = LifecycleRow.parse(row);
    return { state: parsed.state, revision: parsed.revision };
  }

  /** Every container not removed, and removed ones with a decision still pending. */
  live(): LifecycleRow[] {
    return this.#reader
      .rows(
        `SELECT * FROM lifecycle WHERE status <> 'removed' OR pending_reason IS NOT NULL ORDER BY container_id`,
      )
      .map((row) => LifecycleRow.parse(row));
  }

  /** Containers with a pending retirement, soonest first (optionally one user's). */
  pending(user?: string): LifecycleRow[] {
    const rows = user
      ? this.#reader.rows(
          'SELECT * FROM lifecycle WHERE pending_at IS NOT NULL AND user = ? ORDER BY pending_at',
          user,
        )
      : this.#reader.rows('SELECT * FROM lifecycle WHERE pending_at IS NOT NULL ORDER BY pending_at');
    return rows.map((row) => LifecycleRow.parse(row));
  }

  /** The containers whose id starts with, or whose name is, `idOrName` (for the CLI). */
  find(idOrName: string): LifecycleRow[] {
    return this.#reader
      .rows(
        `SELECT * FROM lifecycle WHERE container_id LIKE ? || '%' OR name = ? ORDER BY status = 'removed', container_id`,
        idOrName,
        idOrName,
      )
      .map((row) => LifecycleRow.parse(row));
  }
}
