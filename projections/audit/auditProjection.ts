import { type Ds01Event, eventCatalog } from '@ds01/domain';
import { defineProjection, type ProjectedEvent, preparedOnce } from '../runner/projection.ts';
import { CHAIN_ORIGIN, eventHash, nextLink } from './auditChain.ts';
import { describeEvent } from './describeEvent.ts';

/** Telemetry, not the audit trail: in the hash chain, not in the timeline. */
const NOT_IN_TIMELINE = new Set(['GpuUsageWindowRecorded', 'ContainerResourceWindowRecorded']);

/**
 * The audit trail: every event's hash as DS01 first read it (audit_chain, 32 bytes and where it was:
 * what `ds01 audit verify` compares the log with, so a changed event is named), the chain's value
 * after the last one (audit_chain_head: what a seal seals), and a
 * readable timeline of what happened, to whom, and why (audit_timeline: `ds01 audit`).
 */
export const auditProjection = defineProjection({
  name: 'audit',
  version: 1,
  description:
    'audit trail: a readable timeline (who asked, what was decided, why) and the hash chain over the log',
  eventTypes: eventCatalog.types as readonly Ds01Event['type'][],
  setup(db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS audit_chain (
        position  INTEGER PRIMARY KEY,
        hash      BLOB NOT NULL,
        stream_id TEXT NOT NULL,
        type      TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS audit_chain_head (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        position INTEGER NOT NULL,
        chain    TEXT NOT NULL,
        events   INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS audit_timeline (
        position   INTEGER PRIMARY KEY,
        at         TEXT NOT NULL,
        type       TEXT NOT NULL,
        stream_id  TEXT NOT NULL,
        actor      TEXT NOT NULL,
        user       TEXT,
        container  TEXT,
        slot       TEXT,
        summary    TEXT NOT NULL,
        why        TEXT
      );
      CREATE INDEX IF NOT EXISTS audit_timeline_at ON audit_timeline (at);
      CREATE INDEX IF NOT EXISTS audit_timeline_user ON audit_timeline (user, at);
      CREATE INDEX IF NOT EXISTS audit_timeline_container ON audit_timeline (container, at);`);
  },
  reset(db) {
    db.exec(
      'DROP TABLE IF EXISTS audit_chain; DROP TABLE IF EXISTS audit_chain_head; DROP TABLE IF EXISTS audit_timeline;',
    );
  },
  apply(db, event) {
    const sql = statements(db);
    const head = sql.head.get() as { chain: string; events: number } | undefined;
    const hash = eventHash(event);
    sql.link.run(event.position, Buffer.from(hash, 'hex'), event.streamId, event.type);
    sql.setHead.run(event.position, nextLink(head?.chain ?? CHAIN_ORIGIN, hash), (head?.events ?? 0) + 1);
    if (NOT_IN_TIMELINE.has(event.type)) return;
    const line = describeEvent(event as ProjectedEvent);
    const { kind, name } = event.metadata.actor;
    sql.timeline.run(
      event.position,
      new Date(event.metadata.occurredAt).toISOString(),
      event.type,
      event.streamId,
      kind === 'service' ? `service ${name}` : name,
      line.user,
      line.container,
      line.slot,
      line.summary,
      line.why,
    );
  },
});

const statements = preparedOnce((db) => ({
  head: db.prepare('SELECT chain, events FROM audit_chain_head WHERE id = 1'),
  link: db.prepare('INSERT INTO audit_chain (position, hash, stream_id, type) VALUES (?, ?, ?, ?)'),
  setHead: db.prepare(
    `INSERT INTO audit_chain_head (id, position, chain, events) VALUES (1, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET position = excluded.position, chain = excluded.chain, events = excluded.events`,
  ),
  timeline: db.prepare(
    `INSERT INTO audit_timeline (position, at, type, stream_id, actor, user, container, slot, summary, why)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ),
}));
