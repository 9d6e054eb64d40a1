import type { RecordedEvent } from '@ds01/event-store';
import type { AllocateRecord, CommandRecord, ReleaseRecord } from '../ledger.ts';
import type { Finding } from './finding.ts';

interface ContainerDecisions {
  allocated: RecordedEvent[];
  denied: RecordedEvent[];
  released: RecordedEvent[];
}

/**
 * Every acknowledged command is on the log exactly once; a killed or failed one at most once.
 * Each command has a container id of its own, so its decisions are found by it (GpuAllocated,
 * GpuAllocationDenied and GpuReleased all carry the container).
 */
export function checkCommands(
  poolEvents: readonly RecordedEvent[],
  commands: readonly CommandRecord[],
): Finding[] {
  const byContainer = decisionsByContainer(poolEvents);
  const findings: Finding[] = [];
  for (const [containerId, decisions] of byContainer) {
    const count = decisions.allocated.length + decisions.denied.length;
    if (count > 1) {
      findings.push({
        kind: 'duplicated',
        detail: `container ${containerId.slice(0, 12)}: ${count} allocation decisions for one command (positions ${positions(
          [...decisions.allocated, ...decisions.denied],
        )})`,
      });
    }
    if (decisions.released.length > 1) {
      findings.push({
        kind: 'duplicated',
        detail: `container ${containerId.slice(0, 12)}: released ${decisions.released.length} times (positions ${positions(decisions.released)})`,
      });
    }
  }
  const empty: ContainerDecisions = { allocated: [], denied: [], released: [] };
  const releases = new Map<string, ReleaseRecord[]>();
  for (const command of commands) {
    if (command.kind === 'release')
      releases.set(command.containerId, [...(releases.get(command.containerId) ?? []), command]);
  }
  for (const command of commands) {
    const decisions = byContainer.get(command.containerId) ?? empty;
    if (command.kind === 'allocate') findings.push(...checkAllocation(command, decisions));
    else findings.push(...checkRelease(command, decisions));
  }
  for (const [containerId, records] of releases) {
    const last = records.at(-1)!;
    const decisions = byContainer.get(containerId) ?? empty;
    if (
      last.outcome === 'acknowledged' &&
      last.released?.length === 0 &&
      decisions.allocated.length > decisions.released.length
    ) {
      findings.push({
        kind: 'lost',
        detail: `container ${containerId.slice(0, 12)}: its allocation is on the log (position ${positions(decisions.allocated)}) but \`ds01 gpu release\` answered that it held no GPU`,
      });
    }
  }
  return findings;
}

function checkAllocation(command: AllocateRecord, decisions: ContainerDecisions): Finding[] {
  const answer = command.answer;
  if (command.outcome !== 'acknowledged' || !answer) return [];
  const recorded = answer.granted ? decisions.allocated : decisions.denied;
  const what = `${command.user}'s acknowledged allocation ${answer.granted ? `of ${answer.slots.join(',')}` : '(denied)'} for container ${command.containerId.slice(0, 12)} (request ${answer.requestId})`;
  if (recorded.length === 0) return [{ kind: 'lost', detail: `${what} is not on the log` }];
  const wrong = recorded.filter((e) => (e.data as { requestId: string }).requestId !== answer.requestId);
  if (wrong.length > 0)
    return [
      {
        kind: 'lost',
        detail: `${what} is on the log under another request id (position ${positions(wrong)})`,
      },
    ];
  if (answer.granted) {
    const slots = recorded.map((e) => (e.data as { slot: string }).slot).sort();
    if (slots.join(',') !== [...answer.slots].sort().join(',')) {
      return [{ kind: 'lost', detail: `${what}: the log grants ${slots.join(',')} instead` }];
    }
  }
  return [];
}

function checkRelease(command: ReleaseRecord, decisions: ContainerDecisions): Finding[] {
  if (command.outcome !== 'acknowledged' || !command.released?.length) return [];
  if (decisions.released.length === 0) {
    return [
      {
        kind: 'lost',
        detail: `${command.user}'s acknowledged release of ${command.released.join(',')} (container ${command.containerId.slice(0, 12)}) is not on the log`,
      },
    ];
  }
  return [];
}

function decisionsByContainer(poolEvents: readonly RecordedEvent[]): Map<string, ContainerDecisions> {
  const map = new Map<string, ContainerDecisions>();
  for (const event of poolEvents) {
    const containerId = (event.data as { containerId?: string | null }).containerId;
    if (!containerId) continue;
    const entry = map.get(containerId) ?? { allocated: [], denied: [], released: [] };
    if (event.type === 'GpuAllocated') entry.allocated.push(event);
    else if (event.type === 'GpuAllocationDenied') entry.denied.push(event);
    else if (event.type === 'GpuReleased') entry.released.push(event);
    else continue;
    map.set(containerId, entry);
  }
  return map;
}

export function positions(events: readonly RecordedEvent[]): string {
  return events.map((e) => e.position).join(', ');
}
