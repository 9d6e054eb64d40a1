import type { EventOf } from '../events/defineEvent.ts';
import type { allocationEvents, PoolSlot } from './events.ts';

/** Any event of the GPU pool stream. */
export type GpuPoolEvent = EventOf<(typeof allocationEvents)[number]>;

/** A slot someone holds (the data of the GpuAllocated that granted it). */
export type Holding = Extract<GpuPoolEvent, { type: 'GpuAllocated' }>['data'];

/** A stopped container's GPUs, kept until expiresAt. */
export interface Hold {
  containerId: string;
  user: string | null;
  slots: readonly string[];
  stoppedAt: string;
  expiresAt: string | null;
}

/** Slots granted for a container dockerd has not created yet (GpuAllocated with pendingUntil). */
export interface PendingGrant {
  requestId: string;
  user: string | null;
  slots: readonly string[];
  pendingUntil: string;
}

/**
 * What the pool stream says now: the devices it last decided against, who holds which slot, which
 * stopped containers are on hold, and which grants wait for their container. Only current facts;
 * the past is the log itself.
 */
export interface PoolState {
  inventory: readonly PoolSlot[];
  /** By slot name. */
  holdings: ReadonlyMap<string, Holding>;
  /** By container id. */
  holds: ReadonlyMap<string, Hold>;
  /** When each container last started again after a hold: older stops are stale. */
  resumedAt: ReadonlyMap<string, string>;
  /** The switch-over from ds01-infra has been done. */
  reconciled: boolean;
  /** By request id. */
  pending: ReadonlyMap<string, PendingGrant>;
}

export function initialPoolState(): PoolState {
  return {
    inventory: [],
    holdings: new Map(),
    holds: new Map(),
    resumedAt: new Map(),
    reconciled: false,
    pending: new Map(),
  };
}

/** Folds one event into the state. Never mutates the given state. */
export function evolvePool(state: PoolState, event: GpuPoolEvent): PoolState {
  switch (event.type) {
    case 'GpuPoolInventoryRecorded':
      return { ...state, inventory: event.data.slots };
    case 'GpuAllocated': {
      const holdings = withEntry(state.holdings, event.data.slot, event.data);
      const { requestId, user, slot, pendingUntil } = event.data;
      if (pendingUntil === undefined || event.data.containerId !== null) return { ...state, holdings };
      // In slot order, as a snapshot lists them: the state does not depend on how it was folded.
      const slots = [...(state.pending.get(requestId)?.slots ?? []), slot].sort(compareSlots);
      return {
        ...state,
        holdings,
        pending: withEntry(state.pending, requestId, { requestId, user, slots, pendingUntil }),
      };
    }
    case 'GpuGrantBound': {
      const { requestId, containerId } = event.data;
      const holdings = new Map(state.holdings);
      for (const [slot, holding] of state.holdings) {
        if (holding.requestId === requestId && holding.containerId === null) {
          const { pendingUntil: _bound, ...held } = holding;
          holdings.set(slot, { ...held, containerId });
        }
      }
      return { ...state, holdings, pending: withoutEntry(state.pending, requestId) };
    }
    case 'GpuGrantExpired':
      return { ...state, pending: withoutEntry(state.pending, event.data.requestId) };
    case 'GpuPoolSnapshotTaken':
      return poolStateOfSnapshot(event.data);
    case 'GpuReleased': {
      const holdings = withoutEntry(state.holdings, event.data.slot);
      const released = state.holdings.get(event.data.slot);
      const container = released?.containerId;
      if (released && !container) return { ...state, holdings, pending: withoutPendingSlot(state, released) };
      if (!container || containerSlots({ ...state, holdings }, container).length > 0) {
        return { ...state, holdings };
      }
      // The container holds nothing any more: forget its hold and restart time.
      return {
        ...state,
        holdings,
        holds: withoutEntry(state.holds, container),
        resumedAt: withoutEntry(state.resumedAt, container),
      };
    }
    case 'GpuHoldStarted': {
      const { containerId, user, slots, stoppedAt, expiresAt } = event.data;
      return {
        ...state,
        holds: withEntry(state.holds, containerId, { containerId, user, slots, stoppedAt, expiresAt }),
      };
    }
    case 'GpuHoldEnded':
      return {
        ...state,
        holds: withoutEntry(state.holds, event.data.containerId),
        resumedAt: withEntry(state.resumedAt, event.data.containerId, event.data.at),
      };
    case 'GpuHoldExpired':
      return { ...state, holds: withoutEntry(state.holds, event.data.containerId) };
    case 'GpuPoolReconciled':
      return { ...state, reconciled: true };
    case 'GpuAllocationDenied':
    case 'GpuReconciliationProblem':
      return state;
  }
}

/** A pending grant loses a released slot; with none left it is gone. */
function withoutPendingSlot(state: PoolState, released: Holding): ReadonlyMap<string, PendingGrant> {
  const grant = state.pending.get(released.requestId);
  if (!grant) return state.pending;
  const slots = grant.slots.filter((s) => s !== released.slot);
  return slots.length === 0
    ? withoutEntry(state.pending, grant.requestId)
    : withEntry(state.pending, grant.requestId, { ...grant, slots });
}

export type PoolSnapshot = Extract<GpuPoolEvent, { type: 'GpuPoolSnapshotTaken' }>['data'];

/** The state as a snapshot event holds it (pending grants are in their holdings' pendingUntil). */
export function snapshotOfPoolState(state: PoolState, revision: number): PoolSnapshot {
  return {
    inventory: [...state.inventory],
    holdings: [...state.holdings.values()].sort(bySlot),
    holds: [...state.holds.values()].map((h) => ({ ...h, slots: [...h.slots] })),
    resumedAt: [...state.resumedAt].map(([containerId, at]) => ({ containerId, at })),
    reconciled: state.reconciled,
    revision,
  };
}

function poolStateOfSnapshot(snapshot: PoolSnapshot): PoolState {
  const state: PoolState = {
    inventory: snapshot.inventory,
    holdings: new Map(),
    holds: new Map(snapshot.holds.map((h) => [h.containerId, h])),
    resumedAt: new Map(snapshot.resumedAt.map((r) => [r.containerId, r.at])),
    reconciled: snapshot.reconciled,
    pending: new Map(),
  };
  // Folding the holdings again rebuilds the pending grants from their pendingUntil.
  return snapshot.holdings.reduce<PoolState>(
    (s, holding) => evolvePool(s, { type: 'GpuAllocated', data: holding }),
    state,
  );
}

/** Slots a container holds, in slot order. */
export function containerSlots(state: Pick<PoolState, 'holdings'>, containerId: string): Holding[] {
  return [...state.holdings.values()].filter((h) => h.containerId === containerId).sort(bySlot);
}

/** GPU-equivalents a user holds (held slots of stopped containers count until released). */
export function gpuEquivalentsHeldBy(state: Pick<PoolState, 'holdings'>, user: string): number {
  let total = 0;
  for (const holding of state.holdings.values()) if (holding.user === user) total += holding.gpuEquivalents;
  return total;
}

/** GPU-equivalents held on each physical GPU: what "spread load across GPUs" compares. */
export function loadByGpu(state: Pick<PoolState, 'holdings'>): Map<number, number> {
  const load = new Map<number, number>();
  for (const h of state.holdings.values())
    load.set(h.gpuIndex, (load.get(h.gpuIndex) ?? 0) + h.gpuEquivalents);
  return load;
}

/** Orders slot names as numbers: "2" < "10", "1.2" < "1.10". */
export function compareSlots(a: string, b: string): number {
  const [ga = 0, da = -1] = a.split('.').map(Number);
  const [gb = 0, db = -1] = b.split('.').map(Number);
  return ga - gb || da - db;
}

function bySlot(a: { slot: string }, b: { slot: string }): number {
  return compareSlots(a.slot, b.slot);
}

function withEntry<K, V>(map: ReadonlyMap<K, V>, key: K, value: V): Map<K, V> {
  return new Map(map).set(key, value);
}

function withoutEntry<K, V>(map: ReadonlyMap<K, V>, key: K): ReadonlyMap<K, V> {
  if (!map.has(key)) return map;
  const copy = new Map(map);
  copy.delete(key);
  return copy;
}
