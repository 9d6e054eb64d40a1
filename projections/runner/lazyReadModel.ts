import { ReadModel } from './readModel.ts';

/** The subset of a logger a LazyReadModel says its trouble through. */
interface WarnLogger {
  warn(fields: object, message: string): void;
}

/**
 * A read model for a long-running service, opened when first asked (ds01d's runner makes the file
 * before services start, but a service started on its own may come first). While it cannot be read,
 * a query answers `otherwise`, said once in the log as `what` would be missing.
 */
export class LazyReadModel {
  readonly #path: string;
  readonly #logger: WarnLogger;
  readonly #what: string;
  #readModel: ReadModel | null = null;
  #warned = false;

  constructor(path: string, logger: WarnLogger, what: string) {
    this.#path = path;
    this.#logger = logger;
    this.#what = what;
  }

  use<T>(query: (readModel: ReadModel) => T, otherwise: T): T {
    try {
      this.#readModel ??= new ReadModel(this.#path);
      return query(this.#readModel);
    } catch (error) {
      if (!this.#warned) {
        this.#logger.warn(
          { err: error },
          `${this.#what} until the read models can be read: ${String(error)}`,
        );
        this.#warned = true;
      }
      return otherwise;
    }
  }

  close(): void {
    this.#readModel?.close();
  }
}
