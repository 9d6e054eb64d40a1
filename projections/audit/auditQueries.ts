import type { SQLInputValue } from 'node:sqlite';
import { z } from 'zod';
import type { ReadModel } from '../runner/readModel.ts';

export const AuditRow = z.object({
  position: z.number(),
  at: z.string(),
  type: z.string(),
  stream_id: z.string(),
  actor: z.string(),
  user: z.string().nullable(),
  container: z.string().nullable(),
  slot: z.string().nullable(),
  summary: z.string(),
  why: z.string().nullable(),
});
export type AuditRow = z.infer<typeof AuditRow>;

export interface AuditFilter {
  user?: string | undefined;
  /** A container id, the first characters of one, or a container's name. */
  container?: string | undefined;
  slot?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  types?: readonly string[] | undefined;
  /** At most this many lines: the last ones (default 1000). */
  limit?: number | undefined;
}

/** The audit timeline, oldest first, filtered; the last `limit` lines that match. */
export function auditTrail(readModel: ReadModel, filter: AuditFilter = {}): AuditRow[] {
  const where: string[] = [];
  const params: SQLInputValue[] = [];
  if (filter.user !== undefined) {
    where.push('t.user = ?');
    params.push(filter.user);
  }
  if (filter.container !== undefined) {
    where.push(
      `(t.container LIKE ? ESCAPE '\\' OR t.container IN (SELECT container_id FROM containers WHERE name = ?))`,
    );
    params.push(`${filter.container.replace(/[\\%_]/g, '\\$&')}%`, filter.container);
  }
  if (filter.slot !== undefined) {
    where.push('t.slot = ?');
    params.push(filter.slot);
  }
  if (filter.since) {
    where.push('t.at >= ?');
    params.push(filter.since.toISOString());
  }
  if (filter.until) {
    where.push('t.at <= ?');
    params.push(filter.until.toISOString());
  }
  if (filter.types?.length) {
    where.push(`t.type IN (${filter.types.map(() => '?').join(', ')})`);
    params.push(...filter.types);
  }
  const rows = readModel.query(
    AuditRow,
    `SELECT * FROM (
       SELECT t.position, t.at, t.type, t.stream_id, t.actor, t.user, t.container, t.slot, t.summary, t.why
         FROM audit_timeline t ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY t.at DESC, t.position DESC LIMIT ?)
     ORDER BY at, position`,
    ...params,
    filter.limit ?? 1000,
  );
  return rows;
}
