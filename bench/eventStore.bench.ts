// The SQLite event store against raw node:sqlite doing the same work in the same run: same schema,
// same pragmas (WAL, synchronous=FULL), same JSON payloads. What DS01 adds on top is validation
// (envelope and event schema), idempotency by event id and expected-revision checks.
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { defineEvent, EventCatalog } from '@ds01/domain';
import { type NewEvent, newEventId, SqliteEventStore } from '@ds01/event-store';
import { z } from 'zod';
import { createSchema } from '../packages/event-store/src/sqlite/schema.ts';
import type { BenchContext, BenchFile, BenchResult } from './lib/benchFile.ts';
import { measureInterleaved } from './lib/measure.ts';

/** Shaped like DS01's container events: ids, names, labels, GPUs; about 600 bytes of JSON. */
const ContainerObserved = defineEvent({
  type: 'bench.ContainerObserved',
  schema: z.strictObject({
    containerId: z.string().regex(/^[0-9a-f]{64}$/),
    name: z.string().min(1),
    image: z.string().min(1),
    user: z.string().min(1),
    labels: z.record(z.string(), z.string()),
    gpus: z.array(z.strictObject({ uuid: z.string(), migProfile: z.string().nullable() })),
    startedAt: z.iso.datetime(),
    observation: z.enum(['observed', 'reconciled']),
  }),
});
export const catalog = new EventCatalog([ContainerObserved]);

function containerEvent(i: number): NewEvent {
  return {
    type: ContainerObserved.type,
    data: {
      containerId: randomBytes(32).toString('hex'),
      name: `alice-pytorch-${i}`,
      image: 'ds01/pytorch:2.4-cuda12',
      user: 'alice',
      labels: {
        'ds01.user': 'alice',
        'ds01.group': 'researchers',
        'ds01.interface': 'cli',
        'ds01.project': 'thesis',
      },
      gpus: [{ uuid: `MIG-${randomUUID()}`, migProfile: '3g.40gb' }],
      startedAt: '2025-03-01T12:00:00.000Z',
      observation: 'observed',
    },
    metadata: {
      eventId: newEventId(),
      occurredAt: '2025-03-01T12:00:00.000Z',
      actor: { kind: 'service', name: 'docker-watcher' },
      host: 'gpu-host-1',
      correlationId: randomUUID(),
      causationId: null,
    },
  };
}

export function batches(count: number, size: number): NewEvent[][] {
  return Array.from({ length: count }, (_, b) =>
    Array.from({ length: size }, (_, i) => containerEvent(b * size + i)),
  );
}

/** A minimal event log written by hand on node:sqlite: the baseline DS01 is compared with. */
export class RawLog {
  readonly db: DatabaseSync;
  readonly #revision: StatementSync;
  readonly #insert: StatementSync;
  readonly #page: StatementSync;

  constructor(path: string) {
    this.db = new DatabaseSync(path);
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec('PRAGMA synchronous = FULL');
    this.db.exec('PRAGMA cache_size = -32768');
    createSchema(this.db);
    this.#revision = this.db.prepare('SELECT max(revision) AS revision FROM events WHERE stream_id = ?');
    this.#insert = this.db.prepare(
      'INSERT INTO events (stream_id, revision, event_id, type, version, data, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.#page = this.db.prepare(
      'SELECT position, stream_id, revision, event_id, type, version, data, metadata FROM events WHERE position > ? ORDER BY position LIMIT 1000',
    );
  }

  /** One transaction: read the stream's revision, insert the events after it. */
  append(streamId: string, events: readonly NewEvent[]): void {
    const recordedAt = new Date().toISOString();
    this.db.exec('BEGIN IMMEDIATE');
    let revision = (this.#revision.get(streamId) as { revision: number | null }).revision ?? -1;
    for (const event of events) {
      revision += 1;
      this.#insert.run(
        streamId,
        revision,
        event.metadata.eventId,
        event.type,
        1,
        JSON.stringify(event.data),
        JSON.stringify({ ...event.metadata, recordedAt }),
      );
    }
    this.db.exec('COMMIT');
  }

  /** Every event, paged, decoded through the catalog like the store does. */
  readAll(): number {
    let after = 0;
    let count = 0;
    for (;;) {
      const rows = this.#page.all(after) as unknown as Array<{
        position: number;
        stream_id: string;
        revision: number;
        type: string;
        version: number;
        data: string;
        metadata: string;
      }>;
      for (const row of rows) {
        const decoded = catalog.decode(row.type, row.version, JSON.parse(row.data));
        const event = {
          type: row.type,
          version: decoded.version,
          data: decoded.data,
          metadata: JSON.parse(row.metadata),
          streamId: row.stream_id,
          revision: row.revision,
          position: row.position,
        };
        if (event.position > 0) count += 1;
      }
      if (rows.length < 1000) return count;
      after = rows.at(-1)!.position;
    }
  }
}

const DS01 = 'ds01 SqliteEventStore';
const RAW = 'raw node:sqlite';

/** One side of an append comparison: who appends, and how. */
export interface AppendSide {
  variant: string;
  append(streamId: string, events: readonly NewEvent[]): void | Promise<void>;
}

/**
 * DS01 against its baseline appending the same work, interleaved: each side appends its own fresh events
 * (prepared before the clock starts) in batches of `batchSize`, one transaction each, to a stream of its own.
 */
export async function measureAppends(
  context: BenchContext,
  spec: { name: string; batchSize: number; events: number; targetEventsPerSecond?: number },
  ds01: AppendSide,
  raw: AppendSide,
): Promise<BenchResult[]> {
  const count = Math.max(1, Math.round(spec.events / spec.batchSize));
  const repetitions = context.quick ? 2 : 5;
  const work = { ds01: [] as NewEvent[][], raw: [] as NewEvent[][] };
  let round = 0;
  const side = (which: 'ds01' | 'raw', appender: AppendSide) => ({
    name: spec.name,
    variant: appender.variant,
    eventsPerRepetition: count * spec.batchSize,
    warmup: 1,
    repetitions,
    before: () => {
      work[which] = batches(count, spec.batchSize);
      if (which === 'ds01') round += 1;
    },
    run: async () => {
      for (const batch of work[which]) await appender.append(`container-${round}`, batch);
    },
  });
  return measureInterleaved([
    {
      ...side('ds01', ds01),
      baseline: raw.variant,
      ...(spec.targetEventsPerSecond ? { targetEventsPerSecond: spec.targetEventsPerSecond } : {}),
      targetRatio: 0.7,
    },
    side('raw', raw),
  ]);
}

async function appendBench(
  context: BenchContext,
  spec: { name: string; batchSize: number; events: number; targetEventsPerSecond: number },
): Promise<BenchResult[]> {
  const store = new SqliteEventStore({
    path: join(context.workDir, `${spec.batchSize}-ds01.sqlite`),
    codec: catalog,
  });
  const raw = new RawLog(join(context.workDir, `${spec.batchSize}-raw.sqlite`));
  try {
    return await measureAppends(
      context,
      spec,
      { variant: DS01, append: (stream, batch) => store.append(stream, batch).then(() => {}) },
      { variant: RAW, append: (stream, batch) => raw.append(stream, batch) },
    );
  } finally {
    await store.close();
    raw.db.close();
  }
}

/**
 * What the disk allows at all: append 4 KiB to a growing file and fdatasync it, once per event, as a
 * durable commit to a log needs at least. No store on this disk appends single events durably faster.
 */
async function fsyncCeiling(context: BenchContext, name: string, events: number): Promise<BenchResult> {
  const fd = openSync(join(context.workDir, 'fsync.bin'), 'w');
  const page = Buffer.alloc(4096, 1);
  try {
    return await measureInterleaved([
      {
        name,
        variant: 'disk alone: append 4 KiB + fdatasync',
        eventsPerRepetition: events,
        warmup: 1,
        repetitions: context.quick ? 2 : 5,
        run: () => {
          for (let i = 0; i < events; i++) {
            writeSync(fd, page, 0, page.length, null);
            fdatasyncSync(fd);
          }
        },
      },
    ]).then(([result]) => result!);
  } finally {
    closeSync(fd);
  }
}

async function readAllBench(context: BenchContext): Promise<BenchResult[]> {
  const total = context.quick ? 5_000 : 50_000;
  const path = join(context.workDir, 'read.sqlite');
  const raw = new RawLog(path);
  for (const [i, batch] of batches(total / 1000, 1000).entries()) raw.append(`container-${i % 50}`, batch);
  const store = new SqliteEventStore({ path, codec: catalog });
  try {
    return await measureReadAll(
      context,
      total,
      { variant: DS01, read: () => countAll(store.readAll()) },
      { variant: RAW, read: () => raw.readAll() },
    );
  } finally {
    await store.close();
    raw.db.close();
  }
}

/** One side of a read-all comparison: it reads the whole log and says how many events it decoded. */
export interface ReadSide {
  variant: string;
  read(): number | Promise<number>;
}

/** DS01 against its baseline reading the same `total` events of one log, interleaved. */
export async function measureReadAll(
  context: BenchContext,
  total: number,
  ds01: ReadSide,
  raw: ReadSide,
): Promise<BenchResult[]> {
  const side = ({ variant, read }: ReadSide) => ({
    name: `read all ${total.toLocaleString('en-US')} events, decoded through the catalog`,
    variant,
    eventsPerRepetition: total,
    warmup: 1,
    repetitions: context.quick ? 2 : 5,
    run: async () => {
      const count = await read();
      if (count !== total) throw new Error(`${variant}: read-all missed events (${count} of ${total})`);
    },
  });
  return measureInterleaved([{ ...side(ds01), baseline: raw.variant, targetRatio: 0.7 }, side(raw)]);
}

export async function countAll(events: AsyncIterable<unknown>): Promise<number> {
  let count = 0;
  for await (const _event of events) count += 1;
  return count;
}

export default {
  name: 'Event store (SQLite)',
  description:
    'DS01’s embedded store (`SqliteEventStore`: envelope and schema validation, idempotency by event id, ' +
    'expected-revision check) against a minimal event log written by hand on `node:sqlite` in the same run: same ' +
    'schema, same pragmas (WAL, synchronous=FULL), same ~600-byte JSON payloads, one transaction per append. ' +
    'Targets: durable single-event append ≥ 3,000 events/s, batched append ≥ 100,000 events/s, DS01 ≥ 0.7 × raw.',
  async run(context) {
    const scale = context.quick ? 0.1 : 1;
    const durable = 'durable append, 1 event per transaction';
    return [
      ...(await appendBench(context, {
        name: durable,
        batchSize: 1,
        events: 500 * scale,
        targetEventsPerSecond: 3_000,
      })),
      await fsyncCeiling(context, durable, 500 * scale),
      ...(await appendBench(context, {
        name: 'batched append, 100 events per transaction',
        batchSize: 100,
        events: 20_000 * scale,
        targetEventsPerSecond: 100_000,
      })),
      ...(await appendBench(context, {
        name: 'batched append, 1000 events per transaction',
        batchSize: 1000,
        events: 20_000 * scale,
        targetEventsPerSecond: 100_000,
      })),
      ...(await readAllBench(context)),
    ];
  },
} satisfies BenchFile;
