import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { containerStream, eventCatalog } from '@ds01/domain';
import { type RecordedEvent, SqliteEventStore } from '@ds01/event-store';
import { connectDocker } from '@ds01/host';
import { DockerWatcher, type WatcherLogger } from '../src/index.ts';

const run = promisify(execFile);

/** The host name the harness's watcher records (its streams carry it: docker-history-<host>). */
export const HARNESS_HOST = 'watcher-harness';

/** A fresh data dir with a real SQLite log, and a watcher on a real dockerd. */
export class WatcherHarness {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'ds01-watcher-'));
  readonly storePath = join(this.dataDir, 'events.db');
  readonly checkpointPath = join(this.dataDir, 'docker-watcher.checkpoint');
  readonly store = new SqliteEventStore({ path: this.storePath, codec: eventCatalog });
  readonly logs: { level: string; msg: string }[] = [];
  watcher: DockerWatcher | undefined;
  readonly dockerHost: string;

  constructor(dockerHost: string) {
    this.dockerHost = dockerHost;
  }

  readonly logger: WatcherLogger = {
    debug: (_o, msg) => this.logs.push({ level: 'debug', msg }),
    info: (_o, msg) => this.logs.push({ level: 'info', msg }),
    warn: (_o, msg) => this.logs.push({ level: 'warn', msg }),
    error: (o, msg) =>
      this.logs.push({ level: 'error', msg: `${msg}: ${(o as { err?: Error }).err?.message}` }),
  };

  /**
   * `watchingSince`: as ds01d passes its own start (a first start replays from there); `dockerHost`:
   * another daemon address for this start (one where none answers: a watcher that never got going).
   */
  async startWatcher(options: { watchingSince?: string; dockerHost?: string } = {}): Promise<DockerWatcher> {
    this.watcher = new DockerWatcher({
      ...(options.watchingSince === undefined ? {} : { watchingSince: options.watchingSince }),
      host: HARNESS_HOST,
      store: this.store,
      connection: connectDocker(options.dockerHost ?? this.dockerHost),
      checkpointPath: this.checkpointPath,
      logger: this.logger,
      backoff: { initialMs: 100, maxMs: 1000 },
    });
    await this.watcher.start();
    return this.watcher;
  }

  async stopWatcher(): Promise<void> {
    await this.watcher?.stop();
    this.watcher = undefined;
  }

  /** The real docker CLI against this harness's daemon; returns stdout trimmed. */
  async docker(...args: string[]): Promise<string> {
    const { stdout } = await run('docker', args, { env: { ...process.env, DOCKER_HOST: this.dockerHost } });
    return stdout.trim();
  }

  async events(containerId: string): Promise<RecordedEvent[]> {
    return this.streamEvents(containerStream(containerId));
  }

  async streamEvents(stream: string): Promise<RecordedEvent[]> {
    const events: RecordedEvent[] = [];
    for await (const e of this.store.readStream(stream)) events.push(e);
    return events;
  }

  /** Waits until the watcher has logged `msg` at least `times` times (its rounds are asynchronous), at most 30 s. */
  async waitForLog(msg: string, times = 1): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (this.logs.filter((l) => l.msg === msg).length < times) {
      if (Date.now() > deadline) throw new Error(`the watcher did not log "${msg}" ${times}× within 30 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async types(containerId: string): Promise<string[]> {
    return (await this.events(containerId)).map((e) => e.type);
  }

  /** Polls the container's stream until `done` holds (the watcher is asynchronous), at most 20 s. */
  async waitFor(containerId: string, done: (types: string[]) => boolean, what = 'events'): Promise<string[]> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const types = await this.types(containerId);
      if (done(types)) return types;
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${what} of ${containerId.slice(0, 12)}; have [${types.join(', ')}]`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async close(): Promise<void> {
    await this.stopWatcher();
    await this.store.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** The stream has exactly these types, each once per Docker event identity (no duplicates). */
export function duplicates(events: readonly RecordedEvent[]): string[] {
  const seen = new Map<string, number>();
  for (const e of events) {
    const data = e.data as {
      dockerEvent?: { action: string; timeNano: string } | null;
      observation?: string;
    };
    const key = data.dockerEvent
      ? `${e.type}@${data.dockerEvent.action}@${data.dockerEvent.timeNano}`
      : `${e.type}@${e.metadata.eventId}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen].filter(([, n]) => n > 1).map(([key]) => key);
}

export const hasAll =
  (...wanted: string[]) =>
  (types: string[]) =>
    wanted.every((w) => types.includes(w));
