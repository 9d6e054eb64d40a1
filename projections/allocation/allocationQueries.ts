import { compareSlots } from '@ds01/domain';
import { z } from 'zod';
import type { ReadModel } from '../runner/readModel.ts';

/** A slot of a pool with its holder, if any (also a held slot the inventory no longer lists). */
export const SlotStatusRow = z.object({
  host: z.string(),
  slot: z.string(),
  gpu_index: z.number().int(),
  profile: z.string(),
  gpu_equivalents: z.number(),
  device_id: z.string(),
  user: z.string().nullable(),
  container_id: z.string().nullable(),
  since: z.string().nullable(),
  observation: z.string().nullable(),
  hold_stopped_at: z.string().nullable(),
  hold_expires_at: z.string().nullable(),
  /** 0 when the slot is held but the pool's inventory no longer has it (MIG reconfigured). */
  in_inventory: z.number().int(),
});
export type SlotStatusRow = z.infer<typeof SlotStatusRow>;

/** Every slot of every pool (or one host's), held or free, in slot order. */
export function slotStatus(readModel: ReadModel, host?: string): SlotStatusRow[] {
  const rows = readModel.query(
    SlotStatusRow,
    `SELECT p.host, p.slot, p.gpu_index, p.profile, p.gpu_equivalents, p.device_id, h.user, h.container_id,
            h.since, h.observation, h.hold_stopped_at, h.hold_expires_at, 1 AS in_inventory
       FROM gpu_pool_slots p LEFT JOIN gpu_holdings h ON h.host = p.host AND h.slot = p.slot
      WHERE ?1 IS NULL OR p.host = ?1
     UNION ALL
     SELECT h.host, h.slot, h.gpu_index, h.profile, h.gpu_equivalents, h.device_id, h.user, h.container_id,
            h.since, h.observation, h.hold_stopped_at, h.hold_expires_at, 0 AS in_inventory
       FROM gpu_holdings h
      WHERE (?1 IS NULL OR h.host = ?1)
        AND NOT EXISTS (SELECT 1 FROM gpu_pool_slots p WHERE p.host = h.host AND p.slot = h.slot)`,
    host ?? null,
  );
  return rows.sort((a, b) => a.host.localeCompare(b.host) || compareSlots(a.slot, b.slot));
}

/** GPU-equivalents and slots each user holds now, per pool. */
export const UserHoldingRow = z.object({
  host: z.string(),
  user: z.string().nullable(),
  gpu_equivalents: z.number(),
  slots: z.number().int(),
});
export type UserHoldingRow = z.infer<typeof UserHoldingRow>;

export function userHoldings(readModel: ReadModel, host?: string): UserHoldingRow[] {
  return readModel.query(
    UserHoldingRow,
    `SELECT host, user, sum(gpu_equivalents) AS gpu_equivalents, count(*) AS slots
       FROM gpu_holdings WHERE ?1 IS NULL OR host = ?1
      GROUP BY host, user ORDER BY host, user`,
    host ?? null,
  );
}

/** One grant of a slot and its release (until null: still held). */
export const HoldingHistoryRow = z.object({
  host: z.string(),
  slot: z.string(),
  profile: z.string(),
  gpu_equivalents: z.number(),
  user: z.string().nullable(),
  container_id: z.string().nullable(),
  request_id: z.string(),
  since: z.string(),
  until: z.string().nullable(),
  release_reason: z.string().nullable(),
});
export type HoldingHistoryRow = z.infer<typeof HoldingHistoryRow>;

/** Who held which slot at a moment: grants made at or before it and not released by then. */
export function holdingsAt(
  readModel: ReadModel,
  at: Date,
  filter: { host?: string; slot?: string } = {},
): HoldingHistoryRow[] {
  const moment = at.toISOString();
  const rows = readModel.query(
    HoldingHistoryRow,
    `SELECT host, slot, profile, gpu_equivalents, user, container_id, request_id, since, until, release_reason
       FROM gpu_holding_history
      WHERE since <= ?1 AND (until IS NULL OR until > ?1)
        AND (?2 IS NULL OR host = ?2) AND (?3 IS NULL OR slot = ?3)`,
    moment,
    filter.host ?? null,
    filter.slot ?? null,
  );
  return rows.sort((a, b) => a.host.localeCompare(b.host) || compareSlots(a.slot, b.slot));
}

export const ReconciliationProblemRow = z.object({
  host: z.string(),
  container_id: z.string(),
  container_name: z.string(),
  user: z.string().nullable(),
  problem: z.string(),
  device_id: z.string().nullable(),
  slot: z.string().nullable(),
  detail: z.string(),
  at: z.string(),
});
export type ReconciliationProblemRow = z.infer<typeof ReconciliationProblemRow>;

export function reconciliationProblems(readModel: ReadModel, host?: string): ReconciliationProblemRow[] {
  return readModel.query(
    ReconciliationProblemRow,
    `SELECT host, container_id, container_name, user, problem, device_id, slot, detail, at
       FROM gpu_reconciliation_problems WHERE ?1 IS NULL OR host = ?1 ORDER BY position`,
    host ?? null,
  );
}
