import type { EventStore } from '@ds01/event-store';
import { type SimulationOptions, simulateLab } from './labSimulation.ts';

/** Appends in flight at once: the store's writer commits those that arrive together in one go. */
const IN_FLIGHT = 64;

export interface SimulationProgress {
  events: number;
  day: string;
}

/**
 * Appends a simulated history to a store, in time order. Appends to one stream are issued in order
 * and never overlap others' order on that stream; many are in flight at once so the writer batches
 * them. Running it twice with the same options appends nothing the second time (same ids).
 */
export async function appendSimulation(
  store: EventStore,
  options: SimulationOptions,
  onProgress?: (progress: SimulationProgress) => void,
): Promise<{ events: number }> {
  let events = 0;
  let inFlight: Promise<unknown>[] = [];
  let lastDay = '';
  for (const batch of simulateLab(options)) {
    inFlight.push(store.append(batch.stream, batch.events, { expectedRevision: 'any' }));
    events += batch.events.length;
    if (inFlight.length >= IN_FLIGHT) {
      await Promise.all(inFlight);
      inFlight = [];
      const day = batch.events.at(-1)!.metadata.occurredAt.slice(0, 10);
      if (day !== lastDay) {
        lastDay = day;
        onProgress?.({ events, day });
      }
    }
  }
  await Promise.all(inFlight);
  return { events };
}
