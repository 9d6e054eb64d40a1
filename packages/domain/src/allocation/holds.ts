import type { EndGpuHold, ExpireGpuHolds, StartGpuHold } from './commands.ts';
import { GpuHoldEnded, GpuHoldExpired, GpuHoldStarted, GpuReleased } from './events.ts';
import { expirePendingGrants } from './grants.ts';
import { containerSlots, type GpuPoolEvent, type Hold, type PoolState } from './poolState.ts';

const HOUR_MS = 3_600_000;

/**
 * StartGpuHold → GpuHoldStarted, and at once GpuHoldExpired + GpuReleased when the hold has already
 * run out (a zero-hour hold, or a stop seen late). Nothing when the container holds no GPU, is
 * already on hold, or the stop is older than what the pool knows of the container (a replayed
 * ContainerStopped from before a restart or before its current GPUs were granted).
 */
export function decideStartHold(command: StartGpuHold, state: PoolState): GpuPoolEvent[] {
  const slots = containerSlots(state, command.containerId);
  if (slots.length === 0 || state.holds.has(command.containerId)) return [];
  const stopped = command.stoppedAt.getTime();
  const resumedAt = state.resumedAt.get(command.containerId);
  if (resumedAt !== undefined && stopped <= Date.parse(resumedAt)) return [];
  if (slots.every((h) => stopped < Date.parse(h.since))) return [];

  const hours = command.holdAfterStopHours;
  const hold: Hold = {
    containerId: command.containerId,
    user: slots[0]!.user,
    slots: slots.map((h) => h.slot),
    stoppedAt: command.stoppedAt.toISOString(),
    expiresAt: hours === null ? null : new Date(stopped + hours * HOUR_MS).toISOString(),
  };
  const started = GpuHoldStarted({ ...hold, slots: [...hold.slots] });
  if (hold.expiresAt === null || Date.parse(hold.expiresAt) > command.now.getTime()) return [started];
  return [started, ...expireHold(state, hold, command.now.toISOString())];
}

/** EndGpuHold → GpuHoldEnded when the container is on hold and started after it stopped. */
export function decideEndHold(command: EndGpuHold, state: PoolState): GpuPoolEvent[] {
  const hold = state.holds.get(command.containerId);
  if (!hold || command.startedAt.getTime() < Date.parse(hold.stoppedAt)) return [];
  return [GpuHoldEnded({ containerId: command.containerId, at: command.startedAt.toISOString() })];
}

/**
 * ExpireGpuHolds → for each hold run out by `now`: GpuHoldExpired, then GpuReleased per held slot;
 * or GpuHoldEnded when its container started again within the hold (it is running: it keeps them).
 * Then the pending grants past their deadline (grants.ts).
 */
export function decideExpireHolds(command: ExpireGpuHolds, state: PoolState): GpuPoolEvent[] {
  return [...expireRunOutHolds(command, state), ...expirePendingGrants(state, command.now)];
}

function expireRunOutHolds(command: ExpireGpuHolds, state: PoolState): GpuPoolEvent[] {
  const now = command.now.getTime();
  const at = command.now.toISOString();
  const lastStart = new Map((command.lastStarts ?? []).map((s) => [s.containerId, s.startedAt]));
  return [...state.holds.values()]
    .filter((hold) => hold.expiresAt !== null && Date.parse(hold.expiresAt) <= now)
    .sort(
      (a, b) =>
        Date.parse(a.expiresAt!) - Date.parse(b.expiresAt!) || a.containerId.localeCompare(b.containerId),
    )
    .flatMap((hold) => {
      const startedAt = lastStart.get(hold.containerId);
      return startedAt && startedWithin(hold, startedAt)
        ? [GpuHoldEnded({ containerId: hold.containerId, at: startedAt.toISOString() })]
        : expireHold(state, hold, at);
    });
}

/** Started at or after the stop and before the hold ran out. */
function startedWithin(hold: Hold, startedAt: Date): boolean {
  const started = startedAt.getTime();
  return (
    started >= Date.parse(hold.stoppedAt) && (hold.expiresAt === null || started < Date.parse(hold.expiresAt))
  );
}

function expireHold(state: PoolState, hold: Hold, at: string): GpuPoolEvent[] {
  return [
    GpuHoldExpired({ containerId: hold.containerId, expiresAt: hold.expiresAt!, at }),
    ...containerSlots(state, hold.containerId).map((h) =>
      GpuReleased({ slot: h.slot, user: h.user, containerId: h.containerId, reason: 'hold_expired', at }),
    ),
  ];
}
