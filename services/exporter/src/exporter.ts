import { statfsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventStore } from '@ds01/event-store';
import type { ProjectionStatus, ReadModel } from '@ds01/projections';
import type { HealthSample } from '@ds01/service';
import { applySnapshot, createMetrics, type ExporterMetrics, type RuntimeReadings } from './metrics.ts';
import { readSnapshot } from './snapshot.ts';
import { handleUsageApi } from './usageApi.ts';

export interface ExporterOptions {
  readModel: ReadModel;
  store: EventStore;
  host: string;
  dataDir: string;
  bind: string;
  port: number;
  /** How often the metrics are read from the read models (default 5 s). */
  refreshMs?: number;
  projections?: () => readonly ProjectionStatus[];
  /** The event types a projection reads (its lag counts those only); all when unknown. */
  projectionEventTypes?: (name: string) => readonly string[] | undefined;
  health?: () => readonly HealthSample[];
  /** Who is logged in (`who`), read on the refresh timer; null when it cannot be told. */
  sessions?: () => Promise<{ user: string; count: number }[] | null>;
  intensity?: readonly { from: string; gPerKwh: number }[];
  clock?: () => Date;
  onError?: (error: unknown) => void;
}

/**
 * The Prometheus exporter: a timer reads the read models into the registry; a scrape only
 * serialises the registry (never a query, never another program). Serves /metrics, /health, /
 * and the usage history for Grafana (/api/v1/usage).
 */
export class Exporter {
  readonly metrics: ExporterMetrics = createMetrics();
  readonly #options: ExporterOptions;
  readonly #clock: () => Date;
  #server: Server | undefined;
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #sessions: { user: string; count: number }[] | null = null;
  /** The exposition text of the last refresh: what a scrape answers. */
  #exposition = '';

  constructor(options: ExporterOptions) {
    this.#options = options;
    this.#clock = options.clock ?? (() => new Date());
  }

  /** Refreshes once, listens, then refreshes every refreshMs. Resolves with the bound address. */
  async start(): Promise<AddressInfo> {
    await this.refresh();
    const server = createServer((request, response) => void this.#handle(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#options.port, this.#options.bind, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    const every = this.#options.refreshMs ?? 5000;
    this.#timer = setInterval(() => void this.refresh(), every);
    this.#timer.unref();
    return server.address() as AddressInfo;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#refreshing;
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Reads the read models (and the host's few readings) into the registry. One at a time. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<void> {
    const started = performance.now();
    const { m } = this.metrics;
    try {
      const now = this.#clock();
      const projections = await this.#projectionLag(now);
      this.#sessions = (await this.#options.sessions?.().catch(() => null)) ?? this.#sessions;
      const runtime: RuntimeReadings = {
        stateDisk: stateDisk(this.#options.dataDir),
        sshSessions: this.#sessions,
        projections,
        services: [...(this.#options.health?.() ?? [])],
      };
      // From here to the end synchronous: a scrape sees the old set or the new one, never half.
      const snapshot = readSnapshot(this.#options.readModel, this.#options.host, now);
      applySnapshot(this.metrics, snapshot, runtime, now);
      m.refreshSeconds.set((performance.now() - started) / 1000);
      // Serialised once per refresh, so a scrape only sends bytes (prom-client's registry.metrics()
      // would format every series again for each scraper).
      this.#exposition = await this.metrics.registry.metrics();
    } catch (error) {
      m.refreshFailures.inc();
      this.#options.onError?.(error);
      // The values of the last good refresh stay; the failure count is new.
      this.#exposition = await this.metrics.registry.metrics().catch(() => this.#exposition);
    }
  }

  /** Positions each read model is behind the log, and how old its oldest unapplied event is. */
  async #projectionLag(now: Date): Promise<RuntimeReadings['projections']> {
    const statuses = this.#options.projections?.() ?? [];
    if (statuses.length === 0) return [];
    const { store } = this.#options;
    const head = await store.headPosition();
    const lags: RuntimeReadings['projections'] = [];
    for (const status of statuses) {
      if (head <= status.position) {
        lags.push({ projection: status.name, lagEvents: 0, lagSeconds: 0 });
        continue;
      }
      // A projection that reads some types keeps its checkpoint on the last one it read: what it has
      // not applied is what of its types came after (counted up to a limit).
      const types = this.#options.projectionEventTypes?.(status.name);
      const pending = await store.readBatch({
        after: status.position,
        maxCount: LAG_COUNT_LIMIT,
        ...(types?.length ? { filter: { eventTypes: types } } : {}),
      });
      const oldest = pending[0];
      lags.push({
        projection: status.name,
        lagEvents: pending.length,
        lagSeconds: oldest ? Math.max(0, (now.getTime() - Date.parse(oldest.metadata.recordedAt)) / 1000) : 0,
      });
    }
    return lags;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://exporter');
    try {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return send(response, 405, 'text/plain', 'only GET\n');
      }
      switch (url.pathname) {
        case '/metrics':
          return send(
            response,
            200,
            this.metrics.registry.contentType,
            await this.metrics.registry.metrics(),
          );
        case '/health':
          return send(response, 200, 'text/plain', 'OK\n');
        case '/':
          return send(response, 200, 'text/html', INDEX);
        default:
          if (url.pathname.startsWith('/api/v1/')) {
            const answer = handleUsageApi(url, {
              readModel: this.#options.readModel,
              intensity: this.#options.intensity ?? [],
              now: this.#clock(),
            });
            return send(response, answer.status, 'application/json', `${JSON.stringify(answer.body)}\n`);
          }
          return send(response, 404, 'text/plain', 'Not Found: try /metrics\n');
      }
    } catch (error) {
      send(response, 500, 'text/plain', `error: ${(error as Error).message}\n`);
    }
  }
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

function stateDisk(dataDir: string): RuntimeReadings['stateDisk'] {
  try {
    const fs = statfsSync(dataDir);
    const total = fs.blocks * fs.bsize;
    const free = fs.bavail * fs.bsize;
    return { total, free, used: (fs.blocks - fs.bfree) * fs.bsize };
  } catch {
    return null;
  }
}

/** Unapplied events counted at most, per projection and refresh. */
const LAG_COUNT_LIMIT = 10_000;

const INDEX = `<!DOCTYPE html>
<html><head><title>DS01 exporter</title></head>
<body><h1>DS01 exporter</h1>
<p><a href="/metrics">/metrics</a> (Prometheus) | <a href="/health">/health</a> |
<a href="/api/v1/usage?period=30d&amp;by=user">/api/v1/usage</a> (usage history, JSON, for Grafana)</p>
<p>GPU hardware metrics: DCGM exporter (:9400).</p></body></html>
`;
