import type { RecordedEvent } from '@ds01/event-store';
import type { Finding } from './finding.ts';

/**
 * Folds the pool stream on its own (not with the domain's evolve, which is what is being checked):
 * a slot is granted only while free and released only while held, by the container that holds it. Either failing is a slot conflict.
 */
export function checkPool(poolEvents: readonly RecordedEvent[]): Finding[] {
  const holders = new Map<string, { containerId: string | null; position: number }>();
  const findings: Finding[] = [];
  for (const event of poolEvents) {
    const data = event.data as { slot?: string; containerId?: string | null };
    if (event.type === 'GpuAllocated') {
      const holder = holders.get(data.slot!);
      if (holder) {
        findings.push({
          kind: 'slot conflict',
          detail: `slot ${data.slot} granted at position ${event.position} to container ${short(data.containerId)} while container ${short(holder.containerId)} held it (since position ${holder.position})`,
        });
      }
      holders.set(data.slot!, { containerId: data.containerId ?? null, position: event.position });
    } else if (event.type === 'GpuGrantBound') {
      // A grant for a create, now the container's: its later release names the container.
      const bound = event.data as { slots: string[]; containerId: string };
      for (const slot of bound.slots) {
        const holder = holders.get(slot);
        if (holder) holders.set(slot, { ...holder, containerId: bound.containerId });
      }
    } else if (event.type === 'GpuReleased') {
      const holder = holders.get(data.slot!);
      if (!holder || holder.containerId !== (data.containerId ?? null)) {
        findings.push({
          kind: 'slot conflict',
          detail: `slot ${data.slot} released at position ${event.position} for container ${short(data.containerId)}, which did not hold it (holder: ${holder ? short(holder.containerId) : 'nobody'})`,
        });
      }
      holders.delete(data.slot!);
    }
  }
  return findings;
}

function short(containerId: string | null | undefined): string {
  return containerId ? containerId.slice(0, 12) : '(none)';
}
