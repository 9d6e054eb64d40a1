// The PostgreSQL event store against raw `pg` doing the same SQL in the same run: same server, same
// schema, the same transaction per append (BEGIN, the log's advisory lock, the stream's revision, one
// INSERT ... SELECT FROM unnest, COMMIT) and the same paged SELECT for reads, decoded through the catalog.
// What DS01 adds: validation (envelope and schema), idempotency by event id (a lookup of the append's
// ids), the NOTIFY that wakes subscribers, and its queue of appends.
import { randomUUID } from 'node:crypto';
import type { NewEvent } from '@ds01/event-store';
import pg from 'pg';
import { postgresTarget } from '../packages/event-store/src/postgres/connection.ts';
import { PostgresEventStore } from '../packages/event-store/src/postgres/postgresEventStore.ts';
import { createSql } from '../packages/event-store/src/postgres/schema.ts';
import { batches, catalog, countAll, measureAppends, measureReadAll } from './eventStore.bench.ts';
import type { BenchContext, BenchFile, BenchResult } from './lib/benchFile.ts';

const SERVER =
  process.env['DS01_TEST_POSTGRES_URL'] ||
  'postgres://postgres@localhost/postgres?host=/run/ds01-test/postgres&port=54329';
const DS01 = 'ds01 PostgresEventStore';
const RAW = 'raw pg';

/** A minimal event log on the `pg` client: the baseline DS01 is compared with. */
class RawPgLog {
  readonly client: pg.Client;
  readonly schema: string;
  readonly #lock: string;

  constructor(schema: string) {
    this.schema = schema;
    const [k1, k2] = postgresTarget(SERVER, schema).lockKeys;
    this.#lock = `BEGIN; SELECT pg_advisory_xact_lock(${k1}, ${k2})`;
    this.client = new pg.Client({ connectionString: SERVER });
  }

  async open(): Promise<void> {
    await this.client.connect();
    await this.client.query(createSql(this.schema));
  }

  /** One transaction: lock, read the stream's revision, insert the events after it. */
  async append(streamId: string, events: readonly NewEvent[]): Promise<void> {
    const recordedAt = new Date().toISOString();
    await this.client.query(this.#lock);
    const { rows } = await this.client.query<{ revision: string | null }>(
      `SELECT max(revision) AS revision FROM "${this.schema}".events WHERE stream_id = $1`,
      [streamId],
    );
    const first = rows[0]?.revision === null || rows[0] === undefined ? 0 : Number(rows[0].revision) + 1;
    await this.client.query(
      `INSERT INTO "${this.schema}".events (stream_id, revision, event_id, type, version, data, metadata)
       SELECT $1, t.revision, t.event_id, t.type, 1, t.data::json, t.metadata::json
         FROM unnest($2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::text[]) AS t(revision, event_id, type, data, metadata)`,
      [
        streamId,
        events.map((_, i) => first + i),
        events.map((e) => e.metadata.eventId),
        events.map((e) => e.type),
        events.map((e) => JSON.stringify(e.data)),
        events.map((e) => JSON.stringify({ ...e.metadata, recordedAt })),
      ],
    );
    await this.client.query('COMMIT');
  }

  /** Every event of the log in `schema`, paged, decoded through the catalog like the store does. */
  async readAll(schema: string): Promise<number> {
    let after = 0;
    let count = 0;
    for (;;) {
      const { rows } = await this.client.query<{
        position: string;
        stream_id: string;
        revision: string;
        type: string;
        version: number;
        data: unknown;
        metadata: unknown;
      }>(
        `SELECT position, stream_id, revision, type, version, data, metadata FROM "${schema}".events
          WHERE position > $1 ORDER BY position LIMIT 1000`,
        [after],
      );
      for (const row of rows) {
        const decoded = catalog.decode(row.type, row.version, row.data);
        const event = {
          type: row.type,
          version: decoded.version,
          data: decoded.data,
          metadata: row.metadata,
          streamId: row.stream_id,
          revision: Number(row.revision),
          position: Number(row.position),
        };
        if (event.position > 0) count += 1;
      }
      if (rows.length < 1000) return count;
      after = Number(rows.at(-1)!.position);
    }
  }
}

/** Opens both sides on schemas of their own, runs `work`, drops the schemas. */
async function withLogs<T>(
  label: string,
  work: (ds01: PostgresEventStore, raw: RawPgLog, ds01Schema: string) => Promise<T>,
): Promise<T> {
  const id = randomUUID().replaceAll('-', '').slice(0, 8);
  const ds01Schema = `bench_${label}_${id}_ds01`;
  const rawSchema = `bench_${label}_${id}_raw`;
  const ds01 = new PostgresEventStore({ url: SERVER, schema: ds01Schema, codec: catalog });
  const raw = new RawPgLog(rawSchema);
  try {
    await ds01.headPosition();
    await raw.open();
    return await work(ds01, raw, ds01Schema);
  } finally {
    await ds01.close();
    for (const schema of [ds01Schema, rawSchema])
      await raw.client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await raw.client.end().catch(() => {});
  }
}

async function appendBench(
  context: BenchContext,
  spec: { name: string; batchSize: number; events: number },
): Promise<BenchResult[]> {
  return withLogs(`a${spec.batchSize}`, (store, raw) =>
    measureAppends(
      context,
      spec,
      { variant: DS01, append: (stream, batch) => store.append(stream, batch).then(() => {}) },
      { variant: RAW, append: (stream, batch) => raw.append(stream, batch) },
    ),
  );
}

async function readAllBench(context: BenchContext): Promise<BenchResult[]> {
  const total = context.quick ? 5_000 : 50_000;
  return withLogs('read', async (store, raw, schema) => {
    // The same rows for both: the store's log, read through the store and by raw SQL.
    for (const [i, batch] of batches(total / 1000, 1000).entries())
      await store.append(`container-${i % 50}`, batch);
    return measureReadAll(
      context,
      total,
      { variant: DS01, read: () => countAll(store.readAll()) },
      { variant: RAW, read: () => raw.readAll(schema) },
    );
  });
}

export default {
  name: 'Event store (PostgreSQL)',
  description:
    'DS01’s PostgreSQL store (`PostgresEventStore`: envelope and schema validation, idempotency by event id, ' +
    'expected-revision check, the advisory lock that keeps positions in commit order, NOTIFY for subscribers) ' +
    'against raw `pg` doing the same SQL in the same run: same server (the throwaway test cluster, ' +
    'synchronous_commit on: every commit waits for its WAL flush), same schema, the same transaction per append ' +
    '(BEGIN, advisory lock, revision, INSERT … FROM unnest, COMMIT), same paged SELECT for reads, same ~600-byte ' +
    'JSON payloads decoded through the same catalog. Target: DS01 ≥ 0.7 × raw.',
  async run(context) {
    try {
      const probe = new pg.Client({ connectionString: SERVER, connectionTimeoutMillis: 5_000 });
      await probe.connect();
      await probe.end();
    } catch (error) {
      throw new Error(
        `no test PostgreSQL at ${SERVER} (${(error as Error).message}): run scripts/test.sh once as root, or set DS01_TEST_POSTGRES_URL`,
      );
    }
    const scale = context.quick ? 0.1 : 1;
    return [
      ...(await appendBench(context, {
        name: 'durable append, 1 event per transaction',
        batchSize: 1,
        events: 500 * scale,
      })),
      ...(await appendBench(context, {
        name: 'batched append, 100 events per transaction',
        batchSize: 100,
        events: 20_000 * scale,
      })),
      ...(await appendBench(context, {
        name: 'batched append, 1000 events per transaction',
        batchSize: 1000,
        events: 20_000 * scale,
      })),
      ...(await readAllBench(context)),
    ];
  },
} satisfies BenchFile;
