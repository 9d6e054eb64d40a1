import type { DatabaseSync } from 'node:sqlite';
import type { EventCodec } from '../codec.ts';
import { EventMetadataSchema } from '../envelope.ts';
import { asStoreError } from './sqliteErrors.ts';
import { integrityProblems, openStoreFileReadOnly } from './storeCopy.ts';

/** Rows read per query: bounds memory; between pages the event loop runs (a progress bar redraws). */
const VERIFY_PAGE_SIZE = 5000;

export type FindingKind =
  | 'integrity'
  | 'position-gap'
  | 'revision-gap'
  | 'schema'
  | 'metadata'
  | 'checkpoint-ahead';

/** One thing wrong with the log: where (position, stream, when known) and what. */
export interface StoreFinding {
  kind: FindingKind;
  position: number | null;
  streamId: string | null;
  problem: string;
}

export interface StoreVerification {
  path: string;
  events: number;
  head: number;
  findings: StoreFinding[];
}

type Row = [
  position: number,
  streamId: string,
  revision: number,
  eventId: string,
  type: string,
  version: number,
  data: string,
  metadata: string,
];

/**
 * Checks a store file end to end, beyond SQLite's own integrity check: global positions from 1 with
 * no hole, every stream's revisions contiguous from 0 in position order, every event's data readable
 * by the catalog (after upcasting) and every metadata valid and naming the row's own event id.
 * Reads only, one snapshot (safe while ds01d appends). `onProgress` gets the position reached, the head and the events checked after each page.
 */
export async function verifyStoreFile(
  path: string,
  codec: EventCodec,
  options: { onProgress?: (done: number, total: number, checked: number) => void } = {},
): Promise<StoreVerification> {
  const db = openStoreFileReadOnly(path);
  try {
    // One snapshot for the whole walk: appends committed meanwhile (ds01d runs) are not half seen.
    db.exec('BEGIN');
    const findings: StoreFinding[] = integrityProblems(db).map((problem) => ({
      kind: 'integrity',
      position: null,
      streamId: null,
      problem,
    }));
    const { events, head } = db
      .prepare('SELECT count(*) AS events, coalesce(max(position), 0) AS head FROM events')
      .get() as { events: number; head: number };
    const checker = new LogChecker(codec);
    let checked = 0;
    for await (const rows of pages(db)) {
      for (const row of rows) findings.push(...checker.check(row));
      checked += rows.length;
      options.onProgress?.(rows.at(-1)![0], head, checked);
    }
    return { path, events, head, findings };
  } catch (error) {
    throw asStoreError(path, error);
  } finally {
    db.close();
  }
}

async function* pages(db: DatabaseSync): AsyncGenerator<Row[]> {
  const statement = db.prepare(
    'SELECT position, stream_id, revision, event_id, type, version, data, metadata FROM events ' +
      'WHERE position > ? ORDER BY position ASC LIMIT ?',
  );
  statement.setReturnArrays(true);
  let after = 0;
  for (;;) {
    const rows = statement.all(after, VERIFY_PAGE_SIZE) as unknown as Row[];
    if (rows.length === 0) return;
    yield rows;
    after = rows.at(-1)![0];
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Walks the log in position order, remembering where each stream is. */
class LogChecker {
  readonly #codec: EventCodec;
  #nextPosition = 1;
  readonly #nextRevision = new Map<string, number>();

  constructor(codec: EventCodec) {
    this.#codec = codec;
  }

  check([position, streamId, revision, eventId, type, version, data, metadata]: Row): StoreFinding[] {
    const found: StoreFinding[] = [];
    const finding = (kind: FindingKind, problem: string) => found.push({ kind, position, streamId, problem });
    if (position !== this.#nextPosition) {
      const first = this.#nextPosition;
      finding(
        'position-gap',
        position - first === 1
          ? `position ${first} is missing (the log jumps from ${first - 1} to ${position})`
          : `positions ${first}..${position - 1} are missing (${position - first} events)`,
      );
    }
    this.#nextPosition = position + 1;
    const expected = this.#nextRevision.get(streamId) ?? 0;
    if (revision !== expected) {
      finding('revision-gap', revisionProblem(revision, expected));
    }
    this.#nextRevision.set(streamId, Math.max(expected, revision + 1));
    const dataProblem = this.#dataProblem(type, version, data);
    if (dataProblem) finding('schema', `${type} v${version}: ${dataProblem}`);
    const metadataProblem = metadataProblemOf(metadata, eventId);
    if (metadataProblem) finding('metadata', metadataProblem);
    return found;
  }

  #dataProblem(type: string, version: number, data: string): string | undefined {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return 'its data is not JSON';
    }
    try {
      this.#codec.decode(type, version, parsed);
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }
}

function revisionProblem(revision: number, expected: number): string {
  if (revision < expected) {
    return `revision ${revision} comes after revision ${expected - 1} in position order (expected ${expected})`;
  }
  const after = expected === 0 ? 'is the stream’s first event' : `follows revision ${expected - 1}`;
  const missing =
    revision - expected === 1
      ? `revision ${expected} is missing`
      : `revisions ${expected}..${revision - 1} are missing`;
  return `revision ${revision} ${after}: ${missing}`;
}

function metadataProblemOf(metadata: string, eventId: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(metadata);
  } catch {
    return 'its metadata is not JSON';
  }
  const result = EventMetadataSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return `metadata field '${issue.path.join('.') || '(whole)'}': ${issue.message}`;
  }
  if (result.data.eventId !== eventId) {
    return `metadata names event id ${result.data.eventId}, the row is event ${eventId}`;
  }
  return undefined;
}

/** Projection checkpoints past the head: the read models claim events the log does not have. */
export function checkpointFindings(
  checkpoints: Iterable<{ projection: string; position: number }>,
  head: number,
): StoreFinding[] {
  return [...checkpoints]
    .filter((checkpoint) => checkpoint.position > head)
    .map((checkpoint) => ({
      kind: 'checkpoint-ahead' as const,
      position: checkpoint.position,
      streamId: null,
      problem: `projection ${checkpoint.projection} has read to position ${checkpoint.position}, past the log's head ${head}: rebuild it (\`ds01 projections rebuild ${checkpoint.projection}\`)`,
    }));
}
