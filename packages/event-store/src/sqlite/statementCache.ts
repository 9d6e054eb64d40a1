import type { DatabaseSync, StatementSync } from 'node:sqlite';

/**
 * Prepared statements by SQL text, prepared once per connection: filters and read directions each get
 * their own. `configure` runs once on each new statement (e.g. to return rows as arrays).
 */
export class StatementCache {
  readonly #db: DatabaseSync;
  readonly #configure: ((statement: StatementSync) => void) | undefined;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync, configure?: (statement: StatementSync) => void) {
    this.#db = db;
    this.#configure = configure;
  }

  get(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#configure?.(statement);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  clear(): void {
    this.#statements.clear();
  }
}
