import { type FSWatcher, watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ConfigError,
  type ConfigFiles,
  type ConfigProblem,
  describeProblem,
  inspectResourceLimits,
  type LimitsProblem,
  limitsFile,
  namedAccounts,
  policySnapshot,
  type ResourceLimits,
  readConfigFiles,
  unknownAccountProblems,
} from '@ds01/config';
import {
  type ApplyPolicyChange,
  type PolicyChangedEvent,
  type PolicyCommand,
  type PolicyEvent,
  type PolicyProblem,
  type PolicyState,
  policyDecider,
  policyStream,
} from '@ds01/domain';
import {
  type Actor,
  CommandHandler,
  type EventStore,
  EventStoreError,
  type FailureLogger,
  RepeatedFailureLog,
} from '@ds01/event-store';
import { knownAccountNames } from '@ds01/host';
import { userNameOf } from './fileOwner.ts';

/** The logger calls the watcher makes (pino's Logger has them). */
export type PolicyWatcherLogger = FailureLogger;

export interface PolicyWatcherOptions {
  store: EventStore;
  /** DS01's configuration folder (or a ds01-infra checkout or its config/): see readConfigFiles. */
  configDir: string;
  /** This host's name, on every event. */
  host: string;
  logger: PolicyWatcherLogger;
  /** How often the files are hashed as well, for changes fs.watch misses (NFS, some editors). Default 30 s. */
  hashCheckIntervalMs?: number;
  /** Quiet time after a file event before the files are read (an editor writes in several steps). */
  debounceMs?: number;
  /** Watch the folder with fs.watch (default true); the periodic hash check runs regardless. */
  watchFiles?: boolean;
  userName?: (uid: number) => Promise<string | null>;
  /** Which names the host's user database knows (default: getent); undefined: it cannot say. */
  knownAccounts?: (names: readonly string[]) => Promise<ReadonlySet<string> | undefined>;
  now?: () => Date;
}

/** What one check of the folder found. */
export type CheckOutcome =
  | { result: 'unchanged' }
  | { result: 'applied'; events: PolicyChangedEvent[] }
  /** Refused: not applied, recorded as PolicyRejected (events: empty when this state was refused before). */
  | { result: 'invalid'; problems: LimitsProblem[]; events: PolicyEvent[] }
  | { result: 'unreadable'; error: string }
  /** The log could not be read or written (a full or read-only disk): the next check tries again. */
  | { result: 'unrecorded'; error: string };

interface FileChange {
  file: string;
  sha256: string | null;
  modifiedMs: number;
  owner: { uid: number; user: string | null } | undefined;
}

/**
 * Applies changes of the lab's resource limits. On a change (fs.watch, and a hash of every file
 * now and then) it reads and validates the files: a valid change is recorded on the `policy`
 * stream as PolicyChanged (the diff of the effective configuration, the file, its sha256, and who
 * changed it: the file's owner, as the event's actor); an invalid one is NOT applied: its errors are
 * logged and the last good configuration stays in force. Changes made while ds01d was down are
 * found at start, against the configuration the stream last recorded.
 */
export class PolicyWatcher {
  readonly #options: PolicyWatcherOptions;
  readonly #handler: CommandHandler<PolicyCommand, PolicyEvent, PolicyState>;
  #current: { config: ResourceLimits; files: ConfigFiles } | undefined;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #running: Promise<CheckOutcome> | undefined;
  #again = false;
  #lastReported = '';

  readonly #storeFailures: RepeatedFailureLog;

  constructor(options: PolicyWatcherOptions) {
    this.#options = options;
    this.#handler = new CommandHandler(options.store, policyDecider);
    this.#storeFailures = new RepeatedFailureLog({
      logger: options.logger,
      what: 'could not record the resource limits in the event log; the last recorded ones stay in force',
      retryEveryMs: options.hashCheckIntervalMs ?? 30_000,
    });
  }

  /** The configuration in force: the last valid one this watcher read (undefined before any). */
  current(): ResourceLimits | undefined {
    return this.#current?.config;
  }

  /** Checks the folder once, then watches it. */
  async start(): Promise<CheckOutcome> {
    const outcome = await this.check();
    if (this.#options.watchFiles !== false) {
      try {
        this.#watcher = watch(this.#options.configDir, { recursive: true }, () => this.#soon());
        this.#watcher.on('error', (error) =>
          this.#options.logger.warn(
            { err: error },
            'watching the configuration folder failed; checking hashes only',
          ),
        );
      } catch (error) {
        this.#options.logger.warn(
          { err: error },
          'cannot watch the configuration folder; checking hashes only',
        );
      }
    }
    this.#timer = setInterval(() => void this.check(), this.#options.hashCheckIntervalMs ?? 30_000);
    this.#timer.unref();
    return outcome;
  }

  async stop(): Promise<void> {
    this.#watcher?.close();
    clearInterval(this.#timer);
    clearTimeout(this.#debounce);
    await this.#running;
  }

  /** Reads the folder and applies what changed. Checks never overlap: one asked for meanwhile runs after. */
  check(): Promise<CheckOutcome> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#checkAndRecord().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        void this.check();
      }
    });
    return this.#running;
  }

  #soon(): void {
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.check(), this.#options.debounceMs ?? 300);
  }

  /** #check, with a store that refuses (a full disk) said at a slow cadence and tried again later. */
  async #checkAndRecord(): Promise<CheckOutcome> {
    try {
      const outcome = await this.#check();
      this.#storeFailures.recovered();
      return outcome;
    } catch (error) {
      if (!(error instanceof EventStoreError)) throw error;
      this.#storeFailures.failed(error, { configDir: this.#options.configDir });
      return { result: 'unrecorded', error: error.message };
    }
  }

  async #check(): Promise<CheckOutcome> {
    const { logger } = this.#options;
    let files: ConfigFiles;
    try {
      files = readConfigFiles(this.#options.configDir);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const message = error.message;
      this.#reportOnce(`unreadable:${message}`, () =>
        logger.warn({ configDir: this.#options.configDir }, message),
      );
      await this.#handler.handle(
        policyStream,
        { kind: 'reject', files: [{ file: limitsFile, sha256: null }], problems: recorded(error.problems) },
        this.#metadata(),
      );
      return { result: 'unreadable', error: message };
    }
    const { state } = await this.#handler.load(policyStream);
    const changes = await this.#changedFiles(files, state);
    if (changes.length === 0) {
      // As recorded: after a restart, the files in force are the ones on disk.
      const config = this.#current ? undefined : this.#resolve(files);
      if (config) this.#current = { config, files };
      return { result: 'unchanged' };
    }
    const { config, problems } = inspectResourceLimits(files);
    if (!config) {
      const errors = problems.filter((p) => p.severity === 'error');
      const inForce =
        Object.keys(state.files).length > 0
          ? 'the last valid configuration stays in force'
          : 'no valid configuration was ever applied: GPU decisions fail until the files are fixed';
      this.#reportOnce(`invalid:${[...files.sha256.values()].join()}`, () => {
        for (const p of errors) logger.error({ file: p.file, line: p.line, key: p.key }, describeProblem(p));
        logger.error(
          { configDir: files.dir, errors: errors.length },
          `the changed resource limits are not applied: ${inForce}`,
        );
      });
      const result = await this.#handler.handle(
        policyStream,
        {
          kind: 'reject',
          files: changes.map(({ file, sha256 }) => ({ file, sha256 })),
          problems: recorded(errors),
        },
        this.#metadata(),
      );
      return { result: 'invalid', problems, events: result.events };
    }
    const events: PolicyChangedEvent[] = [];
    for (const step of this.#steps(files, changes)) {
      const result = await this.#handler.handle(
        policyStream,
        {
          files: step.changes.map(({ file, sha256 }) => ({ file, sha256 })),
          snapshot: step.snapshot,
          ...writerOf(step.changes),
        },
        this.#metadata(),
      );
      events.push(...result.events.filter((e): e is PolicyChangedEvent => e.type === 'PolicyChanged'));
    }
    for (const warning of [...config.warnings, ...(await this.#unknownAccounts(config))])
      logger.warn({ file: warning.file, line: warning.line }, describeProblem(warning));
    for (const event of events) {
      logger.info(
        { file: event.data.file, sha256: event.data.sha256, changes: event.data.diff.length },
        `applied a change of ${event.data.file}: ${event.data.diff.length} setting(s) changed`,
      );
    }
    this.#current = { config, files };
    this.#lastReported = '';
    return { result: 'applied', events };
  }

  /** Files whose hash differs from what the stream recorded (new, edited or removed), oldest change first. */
  async #changedFiles(files: ConfigFiles, state: PolicyState): Promise<FileChange[]> {
    const changed: FileChange[] = [];
    for (const [file, sha256] of files.sha256) {
      if (state.files[file] === sha256) continue;
      const info = await stat(join(files.dir, file)).catch(() => undefined);
      const owner = info
        ? { uid: info.uid, user: await (this.#options.userName ?? userNameOf)(info.uid) }
        : undefined;
      changed.push({ file, sha256, modifiedMs: info?.mtimeMs ?? 0, owner });
    }
    for (const file of Object.keys(state.files)) {
      // A file that exists but cannot be read right now has not been removed.
      if (!files.sha256.has(file) && !files.unreadable.has(file) && !files.refused.has(file)) {
        changed.push({ file, sha256: null, modifiedMs: Date.now(), owner: undefined });
      }
    }
    return changed.sort((a, b) => a.modifiedMs - b.modifiedMs || a.file.localeCompare(b.file));
  }

  /**
   * The changes to record, one per file where possible, so that each is attributed to the file (and
   * the person) it came from: applied one by one in the order they were made, over the files last
   * applied; a file valid only with a later one is recorded together with it. Without the previous
   * texts (the first start, a restart) all changes are recorded as one.
   */
  #steps(
    files: ConfigFiles,
    changes: FileChange[],
  ): { changes: FileChange[]; snapshot: ApplyPolicyChange['snapshot'] }[] {
    // All at once, recorded under resource-limits.yaml when it is one of them.
    const main = changes.filter((c) => c.file === 'resource-limits.yaml');
    const final = {
      changes: [...main, ...changes.filter((c) => !main.includes(c))],
      snapshot: policySnapshot(this.#resolve(files)!),
    };
    const previous = this.#current?.files;
    if (!previous || changes.length === 1) return [final];
    const steps: { changes: FileChange[]; snapshot: ApplyPolicyChange['snapshot'] }[] = [];
    const texts = new Map(previous.texts);
    let pending: FileChange[] = [];
    for (const change of changes) {
      const text = files.texts.get(change.file);
      if (text === undefined) texts.delete(change.file);
      else texts.set(change.file, text);
      pending.push(change);
      const candidate = { ...files, texts, sha256: new Map(), unreadable: new Map(), refused: new Map() };
      const { config } = inspectResourceLimits(candidate);
      if (!config) continue;
      steps.push({ changes: pending, snapshot: policySnapshot(config) });
      pending = [];
    }
    if (pending.length > 0) return [final];
    return steps;
  }

  /** Names in the files the host's user database does not know: warnings, as `ds01 config check` says. */
  async #unknownAccounts(config: ResourceLimits): Promise<LimitsProblem[]> {
    const named = namedAccounts(config.groups, config.overrides);
    const known = await (this.#options.knownAccounts ?? knownAccountNames)(named.map((n) => n.user));
    return known ? unknownAccountProblems(named, known) : [];
  }

  /** The watcher records what it read: the editor of a file is not known to it (see PolicyEditor). */
  #metadata(): { actor: Actor; host: string; now: Date } {
    return {
      actor: { kind: 'service', name: 'policy-watcher' },
      host: this.#options.host,
      now: this.#options.now?.() ?? new Date(),
    };
  }

  #resolve(files: ConfigFiles): ResourceLimits | undefined {
    return inspectResourceLimits(files).config;
  }

  /** Logs a problem once per distinct state of the files, not at every hash check. */
  #reportOnce(key: string, report: () => void): void {
    if (this.#lastReported === key) return;
    this.#lastReported = key;
    report();
  }
}

/** At most this many problems are recorded with a refusal (the log is no place for ten thousand). */
const MAX_RECORDED_PROBLEMS = 50;

function recorded(errors: readonly ConfigProblem[]): PolicyProblem[] {
  return errors.slice(0, MAX_RECORDED_PROBLEMS).map(({ file, line, column, key, message }) => ({
    file,
    line,
    column,
    key: key.slice(0, 200),
    message: message.slice(0, 500),
  }));
}

/**
 * Who changed the files: fs.watch does not say (nor does inotify), so the editor is `unknown`; the
 * owner of the (first) changed file is recorded as what it is, the file's owner.
 */
function writerOf(changes: readonly FileChange[]): Pick<ApplyPolicyChange, 'changedBy' | 'fileOwner'> {
  const owner = changes.find((c) => c.owner)?.owner;
  return { changedBy: 'unknown', ...(owner ? { fileOwner: owner } : {}) };
}
