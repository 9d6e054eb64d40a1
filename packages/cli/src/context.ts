import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { type Ds01Config, loadDs01Config } from '@ds01/config';
import { eventCatalog } from '@ds01/domain';
import { type EventStore, openEventStore } from '@ds01/event-store';
import { openProjectionsDb, ReadModel } from '@ds01/projections';
import { Ds01ApiClient } from './gateway/ds01ApiClient.ts';
import { Interruption } from './interruption.ts';
import { Output } from './output/output.ts';
import { requireExistingStore } from './store/existingStore.ts';

/** Options every command accepts (declared on the program in main.ts). */
export interface GlobalOptions {
  dataDir?: string;
  configDir?: string;
  debug?: boolean;
}

/**
 * What a command needs, opened on first use and closed when the command ends: the resolved
 * configuration, the event store (read-only unless asked), the read models, and the output.
 * Commands never open files themselves, so every command honours --data-dir and --config-dir.
 */
export class CliContext {
  readonly output: Output;
  /** Ctrl-C, SIGTERM, a closed stdout: commands that can stop cleanly claim its signal. */
  readonly interruption = new Interruption();
  readonly #globalOptions: () => GlobalOptions;
  readonly #env: Record<string, string | undefined>;
  #config: Ds01Config | undefined;
  #store: { store: EventStore; writable: boolean } | undefined;
  /** The throwaway folder of the empty log a read opens before ds01d ever ran (removed on close). */
  #emptyStoreDir: string | undefined;
  #readModel: ReadModel | undefined;
  #projectionsDb: DatabaseSync | undefined;

  constructor(
    globalOptions: () => GlobalOptions,
    options: { output?: Output; env?: Record<string, string | undefined> } = {},
  ) {
    this.#globalOptions = globalOptions;
    this.output = options.output ?? new Output();
    this.#env = options.env ?? process.env;
  }

  get debug(): boolean {
    return this.#globalOptions().debug === true;
  }

  config(): Ds01Config {
    if (!this.#config) {
      const { dataDir, configDir } = this.#globalOptions();
      this.#config = loadDs01Config({ dataDir, configDir, env: this.#env });
    }
    return this.#config;
  }

  /**
   * The DS01 API on the caller's gateway socket, for an ordinary user (DS01_SOCKET, or a unix
   * DOCKER_HOST when not root); null: read the store and read models directly.
   */
  gatewayApi(): Ds01ApiClient | null {
    return Ds01ApiClient.fromEnvironment(this.#env);
  }

  /** The socket of the caller's own workflow (`ds01 container`, `ds01 image`): see Ds01ApiClient.forWorkflow. */
  workflowApi(login: string): Ds01ApiClient {
    return Ds01ApiClient.forWorkflow(this.#env, login);
  }

  /** The environment the command runs in (the docker CLI it starts for attach and exec gets it). */
  get env(): Record<string, string | undefined> {
    return this.#env;
  }

  /**
   * The event store; read-only unless `write`. Writing needs the store ds01d made: a mistyped
   * --data-dir must not become a new, empty log that grants GPUs others hold.
   */
  async store(options: { write?: boolean; create?: boolean } = {}): Promise<EventStore> {
    const write = options.write ?? false;
    if (this.#store && (this.#store.writable || !write)) return this.#store.store;
    // `create`: commands that fill a log before ds01d ever ran (importing ds01-infra's history at the
    // switch, a simulated lab) make the store; every other write needs the one ds01d made.
    if (write && !options.create && !this.config().eventStore.url)
      requireExistingStore(this.config().eventStore.path);
    await this.#store?.store.close();
    const config = this.config().eventStore;
    // A read before ds01d ever ran (no log file, or an empty one) shows an empty view rather than
    // failing: every read command gets it here, in one place. Writes still refuse above.
    const empty = !write && !config.url && !storeFileHasData(config.path);
    if (empty) this.#emptyDir();
    const store = await openEventStore(
      // A command waits a few seconds for a database server that is restarting, not ds01d's 30.
      {
        ...config,
        ...(empty ? { path: join(this.#emptyDir(), 'events.db') } : {}),
        codec: eventCatalog,
        readOnly: !write && !empty,
        unavailableTimeoutMs: 5_000,
      },
      this.#env,
    );
    this.#store = { store, writable: write };
    return store;
  }

  /** The throwaway folder of a read before ds01d ever ran; says once how to start DS01. */
  #emptyDir(): string {
    if (this.#emptyStoreDir) return this.#emptyStoreDir;
    this.#emptyStoreDir = mkdtempSync(join(tmpdir(), 'ds01-empty-'));
    process.stderr.write(
      `ds01: no DS01 log at ${this.config().eventStore.path} yet (ds01d never ran here): start DS01 with scripts/start.sh from a checkout, or systemctl start ds01d\n`,
    );
    return this.#emptyStoreDir;
  }

  /** The read models, read-only (ds01d keeps them; `ds01 projections rebuild` rebuilds them). */
  readModel(): ReadModel {
    const { eventStore, paths } = this.config();
    // Before ds01d ever ran no projection made its tables: reads show an empty view (see store()).
    const neverRan = !eventStore.url && !storeFileHasData(eventStore.path);
    if (this.#readModel) return this.#readModel;
    // No projections.db either: an empty one in the throwaway folder (the data dir stays untouched).
    const path =
      neverRan && !storeFileHasData(paths.projectionsDb)
        ? join(this.#emptyDir(), 'projections.db')
        : paths.projectionsDb;
    if (path !== paths.projectionsDb) openProjectionsDb(path).close();
    this.#readModel = new ReadModel(path, { absentTablesAreEmpty: neverRan });
    return this.#readModel;
  }

  /** The projections database opened for writing (rebuild): takes its write lock per batch. */
  projectionsDb(): DatabaseSync {
    this.#projectionsDb ??= openProjectionsDb(this.config().paths.projectionsDb, {
      onReplaced: ({ reason, keptAs }) =>
        process.stderr.write(
          `ds01: the projections database ${reason}: moved aside as ${keptAs}; the read models are rebuilt from the log\n`,
        ),
    });
    return this.#projectionsDb;
  }

  async close(): Promise<void> {
    this.#readModel?.close();
    if (this.#projectionsDb?.isOpen) this.#projectionsDb.close();
    await this.#store?.store.close();
    this.#readModel = undefined;
    this.#projectionsDb = undefined;
    this.#store = undefined;
    if (this.#emptyStoreDir) rmSync(this.#emptyStoreDir, { recursive: true, force: true });
    this.#emptyStoreDir = undefined;
  }
}

/** Whether the store's file exists with bytes in it; anything else unreadable is said by the store. */
function storeFileHasData(path: string): boolean {
  try {
    return statSync(path).size > 0;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}
