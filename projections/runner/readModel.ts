import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { z } from 'zod';
import { ReadModelUnavailableError } from './errors.ts';
import { type Checkpoint, openProjectionsDb, readCheckpoint, readCheckpoints } from './projectionsDb.ts';

/**
 * Read-only access to the read models, for the CLI and the API: queries run on their own
 * connection (WAL: they never block ds01d's writes, and see the last committed batch).
 *
 *   const users = readModel.query(UserRow, 'SELECT * FROM users WHERE departed_at IS NULL');
 */
export class ReadModel {
  readonly path: string;
  readonly #db: DatabaseSync;
  /** A table no projection made yet reads as empty: the CLI before ds01d ever ran (empty log). */
  readonly #absentTablesAreEmpty: boolean;

  constructor(path: string, options: { absentTablesAreEmpty?: boolean } = {}) {
    this.path = path;
    this.#absentTablesAreEmpty = options.absentTablesAreEmpty ?? false;
    this.#db = openProjectionsDb(path, { readOnly: true });
  }

  /** Rows of a query, each validated by the schema (column names are the schema's keys). */
  query<Schema extends z.ZodType>(
    schema: Schema,
    sql: string,
    ...params: SQLInputValue[]
  ): z.output<Schema>[] {
    return this.#rows(sql, params).map((row, index) => {
      const parsed = schema.safeParse(row);
      if (parsed.success) return parsed.data;
      const issue = parsed.error.issues[0]!;
      throw new ReadModelUnavailableError(
        this.path,
        `row ${index + 1} of \`${sql}\` does not fit its schema at '${issue.path.join('.')}': ${issue.message}; ` +
          'rebuild the projection (`ds01 projections rebuild NAME`)',
      );
    });
  }

  /** How far a projection has read the log (undefined: it never ran). */
  checkpoint(projection: string): Checkpoint | undefined {
    return readCheckpoint(this.#db, projection);
  }

  checkpoints(): Map<string, Checkpoint> {
    return readCheckpoints(this.#db);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  #rows(sql: string, params: SQLInputValue[]): Record<string, unknown>[] {
    try {
      return this.#db.prepare(sql).all(...params) as Record<string, unknown>[];
    } catch (error) {
      const message = (error as Error).message;
      const missing = /no such table: (\S+)/.exec(message)?.[1];
      if (missing && this.#absentTablesAreEmpty) return [];
      const problem = missing
        ? `has no table ${missing} yet: the projection never ran here. Start ds01d, or run \`ds01 projections rebuild --all\``
        : `query failed: ${message}`;
      throw new ReadModelUnavailableError(this.path, problem, { cause: error });
    }
  }
}
