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
 * GpuAllocationDenied and GpuReleased all carry the container); every harness request asks for
 * one device, so one container has at most one decision and one release.
 */
export function checkCommands(
  poolEvents: readonly RecordedEvent[],
  commands: readonly CommandRecord[],
): Finding[] {
  const byContainer = decisionsByContainer(poolEvents);
  const decisionsOf = (containerId: string) =>
    byContainer.get(containerId) ?? { allocated: [], denied: [], released: [] };
  return [
    ...[...byContainer].flatMap(([containerId, decisions]) => recordedTwice(containerId, decisions)),
    ...commands.flatMap((command) =>
      command.kind === 'allocate'
        ? checkAllocation(command, decisionsOf(command.containerId))
        : checkRelease(command, decisionsOf(command.containerId)),
    ),
    ...lastReleases(commands).flatMap((release) =>
      unseenAllocation(release, decisionsOf(release.containerId)),
    ),
  ];
}

function recordedTwice(containerId: string, decisions: ContainerDecisions): Finding[] {
  const findings: Finding[] = [];
  const decided = [...decisions.allocated, ...decisions.denied];
  if (decided.length > 1) {
    findings.push({
      kind: 'duplicated',
      detail: `container ${containerId.slice(0, 12)}: ${decided.length} allocation decisions for one command (positions ${positions(decided)})`,
    });
  }
  if (decisions.released.length > 1) {
    findings.push({
      kind: 'duplicated',
      detail: `container ${containerId.slice(0, 12)}: released ${decisions.released.length} times (positions ${positions(decisions.released)})`,
    });
  }
  return findings;
}

/** Each container's last release command: the one whose answer stands. */
function lastReleases(commands: readonly CommandRecord[]): ReleaseRecord[] {
  const last = new Map<string, ReleaseRecord>();
  for (const command of commands) if (command.kind === 'release') last.set(command.containerId, command);
  return [...last.values()];
}

/** A release that answered "holds no GPU" while the log has the container's allocation unreleased. */
function unseenAllocation(release: ReleaseRecord, decisions: ContainerDecisions): Finding[] {
  const saidNothingHeld = release.outcome === 'acknowledged' && release.released?.length === 0;
  if (!saidNothingHeld || decisions.allocated.length <= decisions.released.length) return [];
  return [
    {
      kind: 'lost',
      detail: `container ${release.containerId.slice(0, 12)}: its allocation is on the log (position ${positions(decisions.allocated)}) but \`ds01 gpu release\` answered that it held no GPU`,
    },
  ];
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
