import type { ClientBase } from 'pg';
import type { EncodedEvent, EncodedStreamAppend } from '../encodeEvent.ts';
import type { AppendResult } from '../envelope.ts';
import { EventIdConflictError, WrongExpectedRevisionError } from '../errors.ts';
import { satisfiesExpected } from '../expectedRevision.ts';
import type { PostgresTarget } from './connection.ts';

/** The statements of one append transaction, made once per store. */
export interface AppendStatements {
  /** Opens the transaction, takes the log's append lock and queues the NOTIFY sent at commit. */
  begin: string;
  /** Each stream's revision and every event id of the append already in the log, after the lock. */
  state: string;
  insert: string;
}

/**
 * Every append takes one transaction-level advisory lock per log before it reads a revision or takes a
 * position, and holds it until its commit is visible. So appends to one log are serialised: expected
 * revisions are checked against the last commit, and positions are taken in commit order. That is what
 * makes the global position safe to resume from: with bigserial alone, a transaction that took position
 * 10 and commits after the one that took 11 would be skipped by a reader that already read past 11.
 * PostgreSQL makes a commit visible before it releases the transaction's locks, so the next append's
 * positions are only taken once every smaller one can be seen.
 */
export function appendStatements(target: PostgresTarget): AppendStatements {
  const events = `"${target.schema}".events`;
  const [k1, k2] = target.lockKeys;
  return {
    // One round trip: a simple-protocol query may hold several statements (no parameters in it).
    begin: `BEGIN; SELECT pg_advisory_xact_lock(${k1}, ${k2}); NOTIFY "${target.channel}"`,
    state: `
      SELECT 0, stream_id, max(revision), NULL::bigint, NULL::text, NULL::text, NULL::text
        FROM ${events} WHERE stream_id = ANY($1::text[]) GROUP BY stream_id
      UNION ALL
      SELECT 1, stream_id, revision, position, event_id::text, type, data::text
        FROM ${events} WHERE event_id = ANY($2::uuid[])`,
    // recordedAt is the server's: the same clock for every host writing to the log.
    insert: `
      INSERT INTO ${events} (stream_id, revision, event_id, type, version, data, metadata)
      SELECT t.stream_id, t.revision, t.event_id, t.type, t.version, t.data::json, (left(t.metadata, -1) || r.suffix)::json
        FROM unnest($1::text[], $2::bigint[], $3::uuid[], $4::text[], $5::int[], $6::text[], $7::text[])
               WITH ORDINALITY AS t(stream_id, revision, event_id, type, version, data, metadata, n),
             (SELECT ',"recordedAt":"' || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"}' AS suffix) r
       ORDER BY t.n
      RETURNING position, event_id::text`,
  };
}

interface Stored {
  streamId: string;
  revision: number;
  position: number;
  type: string;
  data: string;
}

type StateRow = [
  kind: 0 | 1,
  streamId: string,
  revision: number,
  position: number,
  eventId: string,
  type: string,
  data: string,
];

/** What became of one request of a group: its results (one per stream) and how many events were new, or its refusal. */
export type GroupOutcome = { ok: { results: AppendResult[]; inserted: number } } | { error: unknown };

/**
 * Commits a group of requests (each one stream's append, or a multi-stream batch) in one transaction on
 * `client`, in order: the appends a store was asked for while the previous commit was on its way share
 * one lock, one commit and one WAL flush. Each request succeeds or is refused alone: a refusal (a wrong
 * revision, an event id conflict) is decided before anything of its request is written, and a later
 * request sees what the earlier ones wrote. Any other error fails the whole group, nothing written.
 */
export async function commitGroup(
  client: ClientBase,
  sql: AppendStatements,
  group: readonly (readonly EncodedStreamAppend[])[],
): Promise<GroupOutcome[]> {
  await client.query(sql.begin);
  try {
    const outcomes: GroupOutcome[] = [];
    let inserted = 0;
    for (const appends of group) {
      try {
        const ok = await appendStreams(client, sql, appends);
        inserted += ok.inserted;
        outcomes.push({ ok });
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError || error instanceof EventIdConflictError))
          throw error;
        outcomes.push({ error });
      }
    }
    // Nothing new: no commit, so no NOTIFY wakes the subscribers for nothing.
    await client.query(inserted > 0 ? 'COMMIT' : 'ROLLBACK');
    return outcomes;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/**
 * Appends several streams (one, for append()) inside the group's transaction: all or nothing, since every
 * refusal (WrongExpectedRevisionError, EventIdConflictError) is thrown before the one INSERT. Each stream is
 * idempotent by event id as in the SQLite store: events already in it are skipped, and an append whose
 * events are all there is a no-op that succeeds whatever it expected.
 */
async function appendStreams(
  client: ClientBase,
  sql: AppendStatements,
  appends: readonly EncodedStreamAppend[],
): Promise<{ results: AppendResult[]; inserted: number }> {
  const state = await client.query<StateRow>({
    text: sql.state,
    values: [appends.map((a) => a.streamId), appends.flatMap((a) => a.encoded.map((e) => e.eventId))],
    rowMode: 'array',
  });
  const revisions = new Map<string, number>();
  const stored = new Map<string, Stored>();
  for (const [kind, streamId, revision, position, eventId, type, data] of state.rows) {
    if (kind === 0) revisions.set(streamId, revision);
    else stored.set(eventId, { streamId, revision, position, type, data });
  }
  const plan = planAppends(appends, revisions, stored);
  const positions = new Map<string, number>();
  for (const [eventId, row] of stored) positions.set(eventId, row.position);
  if (plan.rows.length > 0) {
    const inserted = await client.query<[number, string]>({
      text: sql.insert,
      values: columnsOf(plan.rows),
      rowMode: 'array',
    });
    for (const [position, eventId] of inserted.rows) positions.set(eventId, position);
  }
  const results = appends.map((append, i) => ({
    nextExpectedRevision: plan.revisions[i]!,
    position: positions.get(append.encoded.at(-1)!.eventId.toLowerCase())!,
  }));
  return { results, inserted: plan.rows.length };
}

interface PlannedRow {
  streamId: string;
  revision: number;
  event: EncodedEvent;
}

/** Which events to insert at which revisions, and each stream's revision after the append; throws on a refusal. */
function planAppends(
  appends: readonly EncodedStreamAppend[],
  revisions: ReadonlyMap<string, number>,
  stored: Map<string, Stored>,
): { rows: PlannedRow[]; revisions: number[] } {
  const rows: PlannedRow[] = [];
  const after: number[] = [];
  for (const { streamId, expected, encoded } of appends) {
    const current = revisions.get(streamId) ?? 'no_stream';
    const fresh = encoded.filter((event) => !isStored(streamId, event, stored));
    if (fresh.length === 0 && current !== 'no_stream') {
      after.push(current);
      continue;
    }
    if (!satisfiesExpected(expected, current))
      throw new WrongExpectedRevisionError(streamId, expected, current);
    let revision = current === 'no_stream' ? -1 : current;
    for (const event of fresh) {
      revision += 1;
      rows.push({ streamId, revision, event });
      // The same event twice in one append is written once.
      stored.set(event.eventId.toLowerCase(), {
        streamId,
        revision,
        position: 0,
        type: event.type,
        data: event.data,
      });
    }
    after.push(revision);
  }
  return { rows, revisions: after };
}

/** Whether this very event is in the stream already; throws when its id names another event. */
function isStored(streamId: string, event: EncodedEvent, stored: ReadonlyMap<string, Stored>): boolean {
  const row = stored.get(event.eventId.toLowerCase());
  if (!row) return false;
  if (row.streamId !== streamId)
    throw new EventIdConflictError(
      event.eventId,
      streamId,
      `in stream '${row.streamId}' (revision ${row.revision})`,
    );
  if (row.type !== event.type || row.data !== event.data)
    throw new EventIdConflictError(
      event.eventId,
      streamId,
      `with a different payload (${row.type} at revision ${row.revision}): an event id names one fact, give a new fact a new id`,
    );
  return true;
}

/** The insert's parameters: one array per column (unnest turns them back into rows). */
function columnsOf(rows: readonly PlannedRow[]): unknown[] {
  const n = rows.length;
  const streams = new Array<string>(n);
  const revisions = new Array<number>(n);
  const ids = new Array<string>(n);
  const types = new Array<string>(n);
  const versions = new Array<number>(n);
  const data = new Array<string>(n);
  const metadata = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const { streamId, revision, event } = rows[i]!;
    streams[i] = streamId;
    revisions[i] = revision;
    ids[i] = event.eventId;
    types[i] = event.type;
    versions[i] = event.version;
    data[i] = event.data;
    metadata[i] = JSON.stringify(event.metadata);
  }
  return [streams, revisions, ids, types, versions, data, metadata];
}
