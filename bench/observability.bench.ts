// A year of a lab (ds01 simulate: 200 users, 28 MIG slices, ≥ 3 million events) and what the lab
// manager asks of it: the usage analytics rebuilt from zero, `ds01 usage --period 1y --by user`,
// and a scrape of the exporter's /metrics with 200 users, 1,000 containers and 28 slots. Each
// against a baseline measured in the same run.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  ContainerCreated,
  ContainerDescribed,
  ContainerStarted,
  containerStream,
  eventCatalog,
} from '@ds01/domain';
import { type NewEvent, SqliteEventStore } from '@ds01/event-store';
import { Exporter } from '@ds01/exporter';
import {
  allProjections,
  openProjectionsDb,
  ProjectionRunner,
  ReadModel,
  usageProjection,
  usageReport,
} from '@ds01/projections';
import { appendSimulation } from '@ds01/simulation';
import type { BenchContext, BenchFile, BenchResult } from './lib/benchFile.ts';
import { measure, measureInterleaved } from './lib/measure.ts';

const HOST = 'bench-gpu01';
const DAY_MS = 86_400_000;

/** 1,000 containers running now (a quarter of them raw `docker run --gpus all`), owned by the users. */
async function appendRunningContainers(store: SqliteEventStore, users: string[], count: number, now: number) {
  const appends: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const containerId = i.toString(16).padStart(64, 'c');
    const user = users[i % users.length]!;
    const unmanaged = i % 4 === 0;
    const ref = { containerId, name: `bench-${i}`, observation: 'observed' as const, dockerEvent: null };
    const at = new Date(now - 3_600_000).toISOString();
    const meta = (): NewEvent['metadata'] => ({
      eventId: randomUUID(),
      occurredAt: at,
      actor: { kind: 'service', name: 'bench' },
      host: HOST,
      correlationId: randomUUID(),
      causationId: null,
    });
    appends.push(
      store.append(containerStream(containerId), [
        { ...ContainerCreated({ ...ref, image: 'busybox', labels: {} }), metadata: meta() },
        {
          ...ContainerDescribed({
            ...ref,
            describedFrom: 'inspect',
            image: 'busybox',
            imageId: 'sha256:bench',
            createdAt: at,
            owner: { user, rule: 'ds01_label', evidence: 'bench' },
            interface: unmanaged ? 'docker' : 'atomic',
            type: unmanaged ? 'docker' : 'atomic',
            managed: !unmanaged,
            infrastructure: false,
            gpu: unmanaged ? { access: 'all', via: 'device_request' } : { access: 'none' },
            cgroupParent: null,
            limits: null,
            labels: {},
          }),
          metadata: meta(),
        },
        { ...ContainerStarted({ ...ref, startedAt: at }), metadata: meta() },
      ]),
    );
  }
  await Promise.all(appends);
}

/**
 * The floor under the usage rebuild: the window events (nearly all of the log) read with
 * node:sqlite, JSON.parsed and summed into the same daily table with the same upsert, 1000 per
 * transaction; no decoding, no checkpoint, no other event type.
 */
function rawUsageRebuild(eventsPath: string, projectionsPath: string): number {
  const log = new DatabaseSync(eventsPath, { readOnly: true });
  const db = new DatabaseSync(projectionsPath);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL');
  usageProjection.reset(db);
  usageProjection.setup(db);
  const page = log.prepare(
    "SELECT position, data FROM events WHERE position > ? AND type = 'GpuUsageWindowRecorded' ORDER BY position LIMIT ?",
  );
  const add = db.prepare(
    `INSERT INTO usage_daily (day, user, grp, used_gpu_s, energy_j) VALUES (?, ?, '', ?, ?)
     ON CONFLICT (day, user) DO UPDATE SET used_gpu_s = used_gpu_s + excluded.used_gpu_s,
       energy_j = energy_j + excluded.energy_j`,
  );
  let after = 0;
  let applied = 0;
  for (;;) {
    const rows = page.all(after, 1000) as { position: number; data: string }[];
    if (rows.length === 0) break;
    db.exec('BEGIN');
    for (const row of rows) {
      const d = JSON.parse(row.data);
      add.run(
        d.windowStart.slice(0, 10),
        d.holder.user ?? '',
        300 * (d.smActive?.mean ?? 0),
        d.energyJoules ?? 0,
      );
    }
    db.exec('COMMIT');
    applied += rows.length;
    after = rows.at(-1)!.position;
  }
  db.close();
  log.close();
  return applied;
}

const bench: BenchFile = {
  name: 'Observability: a year of history, usage analytics, /metrics',
  description:
    'A year of a lab appended by `ds01 simulate` (200 users, 28 MIG slices, a usage window per slice every 5 min) ' +
    'plus 1,000 running containers. "rebuild usage analytics" replays the log into the usage projection from zero ' +
    '(the projection runner: read, decode every event through the catalog with `revalidate: false` (events at ' +
    'their current version are not parsed by their schema a second time), apply a batch summed in memory, checkpoint ' +
    'per 1000); its baseline ' +
    'reads only the window events with node:sqlite, JSON.parses them and upserts the same daily table (the floor of the ' +
    'work). "usage, 1 year by user" is `ds01 usage --period 1y --by user`\'s query (usageReport: one SQL aggregate over ' +
    'the daily rows, zod-validated, plus open allocations); its baseline is the bare SQL aggregate on a node:sqlite ' +
    'connection. "scrape /metrics" is one GET of the exporter (served from its registry, refreshed from the read ' +
    'models beforehand); its baseline is a bare node:http server answering the same bytes. Latency targets are ' +
    'written as rates: < 100 ms per query is ≥ 10/s, < 50 ms per scrape is ≥ 20/s.',
  async run({ workDir, quick }: BenchContext): Promise<BenchResult[]> {
    const users = quick ? 40 : 200;
    const days = quick ? 20 : 365;
    const eventsPath = join(workDir, 'events.db');
    const projectionsPath = join(workDir, 'projections.db');
    const store = new SqliteEventStore({ path: eventsPath, codec: eventCatalog });
    const now = Date.now();
    const start = new Date(Math.floor(now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS);
    const began = performance.now();
    await appendSimulation(store, { users, days, seed: 1, start, host: HOST });
    const userNames = (
      new DatabaseSync(eventsPath, { readOnly: true })
        .prepare(
          "SELECT DISTINCT json_extract(data, '$.user') AS user FROM events WHERE type = 'UserRegistered'",
        )
        .all() as { user: string }[]
    ).map((r) => r.user);
    await appendRunningContainers(store, userNames, 1000, now);
    const total = await store.countEvents();
    console.log(
      `  history: ${total.toLocaleString('en-US')} events appended in ${Math.round((performance.now() - began) / 1000)} s`,
    );

    const results: BenchResult[] = [];
    const rebuildName = `rebuild usage analytics, ${total.toLocaleString('en-US')} events`;
    const rawPath = join(workDir, 'raw-projections.db');
    const db = openProjectionsDb(projectionsPath);
    const runner = new ProjectionRunner({ store, db, projections: allProjections });
    runner.prepare();
    // Interleaved (raw, ds01, raw, ds01, ...) so that a busy minute on a shared machine weighs on both.
    const repetitions = quick ? 2 : 3;
    results.push(
      ...(await measureInterleaved([
        {
          name: rebuildName,
          variant: 'raw node:sqlite, window events only',
          eventsPerRepetition: total,
          warmup: 0,
          repetitions,
          run: () => {
            rawUsageRebuild(eventsPath, rawPath);
          },
        },
        {
          name: rebuildName,
          variant: 'ds01 (projection runner)',
          eventsPerRepetition: total,
          warmup: 0,
          repetitions,
          run: async () => {
            await runner.rebuild(['usage']);
          },
          baseline: 'raw node:sqlite, window events only',
          targetEventsPerSecond: 200_000,
        },
      ])),
    );
    // The other read models the exporter serves from.
    await runner.catchUp();

    const readModel = new ReadModel(projectionsPath);
    const raw = new DatabaseSync(projectionsPath, { readOnly: true });
    const today = new Date(now).toISOString().slice(0, 10);
    const yearAgo = new Date(now - 364 * DAY_MS).toISOString().slice(0, 10);
    const bare = raw.prepare(
      `SELECT user AS key, sum(allocated_gpu_s), sum(used_gpu_s), sum(idle_gpu_s), sum(unknown_gpu_s), sum(energy_j),
              sum(containers), sum(grants), sum(denials)
         FROM usage_daily WHERE day >= ? AND day <= ? GROUP BY 1 ORDER BY 1`,
    );
    const rows = usageReport(readModel, {
      fromDay: yearAgo,
      toDay: today,
      by: 'user',
      intensity: [{ from: '2000-01-01', gPerKwh: 363 }],
      now: new Date(now),
    });
    console.log(`  usage by user: ${rows.length} rows`);
    results.push(
      ...(await measureInterleaved([
        {
          name: 'usage, 1 year by user (ds01 usage --period 1y --by user)',
          variant: 'bare SQL aggregate (node:sqlite)',
          eventsPerRepetition: 1,
          warmup: 3,
          repetitions: quick ? 5 : 30,
          run: () => {
            bare.all(yearAgo, today);
          },
        },
        {
          name: 'usage, 1 year by user (ds01 usage --period 1y --by user)',
          variant: 'ds01 usageReport',
          eventsPerRepetition: 1,
          warmup: 3,
          repetitions: quick ? 5 : 30,
          run: () => {
            usageReport(readModel, {
              fromDay: yearAgo,
              toDay: today,
              by: 'user',
              intensity: [{ from: '2000-01-01', gPerKwh: 363 }],
              now: new Date(now),
            });
          },
          baseline: 'bare SQL aggregate (node:sqlite)',
          targetEventsPerSecond: 10,
        },
      ])),
    );

    const exporter = new Exporter({
      readModel,
      store,
      host: HOST,
      dataDir: workDir,
      bind: '127.0.0.1',
      port: 0,
      refreshMs: 3_600_000,
      projections: () => runner.status(),
    });
    const address = await exporter.start();
    const url = `http://127.0.0.1:${address.port}/metrics`;
    const body = await (await fetch(url)).text();
    const series = body.split('\n').filter((l) => l && !l.startsWith('#')).length;
    console.log(
      `  /metrics: ${series.toLocaleString('en-US')} series, ${Math.round(body.length / 1024)} KiB`,
    );
    const plain = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/metrics`;
    const scrapeName = `scrape /metrics: ${users} users, 1,000 containers, 28 slots (${series.toLocaleString('en-US')} series)`;
    results.push(
      ...(await measureInterleaved([
        {
          name: scrapeName,
          variant: 'bare node:http, same bytes',
          eventsPerRepetition: 1,
          warmup: 5,
          repetitions: quick ? 10 : 50,
          run: async () => {
            await (await fetch(plainUrl)).text();
          },
        },
        {
          name: scrapeName,
          variant: 'ds01 exporter',
          eventsPerRepetition: 1,
          warmup: 5,
          repetitions: quick ? 10 : 50,
          run: async () => {
            await (await fetch(url)).text();
          },
          baseline: 'bare node:http, same bytes',
          targetEventsPerSecond: 20,
        },
      ])),
    );
    results.push(
      await measure({
        name: 'exporter refresh from the read models (on its timer, never on a scrape)',
        variant: 'ds01 exporter',
        eventsPerRepetition: 1,
        warmup: 2,
        repetitions: quick ? 5 : 20,
        run: () => exporter.refresh(),
      }),
    );
    await exporter.stop();
    await new Promise<void>((resolve) => plain.close(() => resolve()));
    raw.close();
    readModel.close();
    await runner.stop();
    db.close();
    await store.close();
    return results;
  },
};

export default bench;
