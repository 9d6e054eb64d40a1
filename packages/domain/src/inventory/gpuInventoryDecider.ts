import type { Decider } from '@ds01/event-store';
import { z } from 'zod';
import type { EventOf } from '../events/defineEvent.ts';
import { diffInventories, type GpuInventoryChange, sameInventory } from './diffInventories.ts';
import {
  GpuAppeared,
  GpuInventoryObserved,
  GpuLost,
  GpuProbeFailed,
  GpuProbeFailureSchema,
  GpuProbeRecovered,
  type inventoryEvents,
  MigLayoutChanged,
} from './events.ts';
import { type GpuInventory, GpuInventorySchema } from './inventory.ts';

/** A probe found this inventory (services/gpu-sampler, every few seconds). */
export const RecordGpuProbeSchema = z.strictObject({
  type: z.literal('RecordGpuProbe'),
  inventory: GpuInventorySchema,
  now: z.date(),
});
export type RecordGpuProbe = z.infer<typeof RecordGpuProbeSchema>;

/** A probe failed: nvidia-smi timed out, exited non-zero, or printed what cannot be read. */
export const RecordGpuProbeFailureSchema = z.strictObject({
  type: z.literal('RecordGpuProbeFailure'),
  failure: GpuProbeFailureSchema,
  now: z.date(),
});
export type RecordGpuProbeFailure = z.infer<typeof RecordGpuProbeFailureSchema>;

export type GpuInventoryCommand = RecordGpuProbe | RecordGpuProbeFailure;
export type GpuInventoryEvent = EventOf<(typeof inventoryEvents)[number]>;

export interface GpuInventoryState {
  /** The last inventory observed; null before the first probe that worked. */
  inventory: GpuInventory | null;
  /** Since when probes fail (null while they work). */
  failingSince: string | null;
}

export function initialGpuInventoryState(): GpuInventoryState {
  return { inventory: null, failingSince: null };
}

/**
 * Turns probes into events only where something changed: the first inventory, an inventory that
 * differs (what changed, then the whole new inventory), failures starting and ending. A probe that
 * finds what the last one found, or fails while probes already fail, decides nothing, so a
 * sampler that probes every few seconds for a year writes a handful of events.
 */
export function decideGpuInventory(
  command: GpuInventoryCommand,
  state: GpuInventoryState,
): GpuInventoryEvent[] {
  const at = command.now.toISOString();
  if (command.type === 'RecordGpuProbeFailure') {
    return state.failingSince === null ? [GpuProbeFailed({ ...command.failure, at })] : [];
  }
  const events: GpuInventoryEvent[] = [];
  if (state.failingSince !== null) events.push(GpuProbeRecovered({ failedSince: state.failingSince, at }));
  if (state.inventory === null || !sameInventory(state.inventory, command.inventory)) {
    const changes = state.inventory ? diffInventories(state.inventory, command.inventory) : [];
    events.push(...changes.map((change) => changeEvent(change, at)));
    events.push(GpuInventoryObserved({ inventory: command.inventory, at }));
  }
  return events;
}

function changeEvent(change: GpuInventoryChange, at: string): GpuInventoryEvent {
  switch (change.kind) {
    case 'appeared':
      return GpuAppeared({ gpu: change.gpu, movedFrom: change.movedFrom, at });
    case 'lost':
      return GpuLost({ gpu: change.gpu, movedTo: change.movedTo, at });
    case 'migLayoutChanged': {
      const { kind: _kind, ...data } = change;
      return MigLayoutChanged({ ...data, at });
    }
  }
}

export function evolveGpuInventory(state: GpuInventoryState, event: GpuInventoryEvent): GpuInventoryState {
  switch (event.type) {
    case 'GpuInventoryObserved':
      return { ...state, inventory: event.data.inventory };
    case 'GpuProbeFailed':
      return { ...state, failingSince: event.data.at };
    case 'GpuProbeRecovered':
      return { ...state, failingSince: null };
    default:
      // GpuAppeared, GpuLost, MigLayoutChanged: the GpuInventoryObserved after them carries the state.
      return state;
  }
}

/** The decider of one host's stream `gpu-inventory-<host>`. */
export const gpuInventoryDecider: Decider<GpuInventoryCommand, GpuInventoryEvent, GpuInventoryState> = {
  decide: decideGpuInventory,
  evolve: evolveGpuInventory,
  initialState: initialGpuInventoryState,
};
