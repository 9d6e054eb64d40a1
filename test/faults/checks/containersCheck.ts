import type { RecordedEvent } from '@ds01/event-store';
import type { Finding } from './finding.ts';

/** A harness container as Docker has it at the end (`docker ps -a`), or gone (removed). */
export type DockerState = 'created' | 'running' | 'exited' | 'gone';

/**
 * What happens at most once in the life of a harness container: it is run once (`docker run -d`,
 * no restart policy), so a second start or stop on its stream is the same one recorded twice,
 * even where start and stop alternate as a restart's would.
 */
const ONCE = [
  'ContainerCreated',
  'ContainerDescribed',
  'UnmanagedContainerDetected',
  'ContainerStarted',
  'ContainerStopped',
  'ContainerRemoved',
];
/** DS01's reading of a container, not a Docker transition: recorded when inspect answers, even after removal. */
const DESCRIPTIONS = ['ContainerDescribed', 'UnmanagedContainerDetected'];

/**
 * No Docker transition recorded twice, per harness container stream: each at most once, Created
 * first, no Started while running, no Stopped while not running, no transition after Removed.
 * Folded here on its own rather than with the domain's container state, which is what is checked.
 */
export function checkContainerStreams(streams: ReadonlyMap<string, readonly RecordedEvent[]>): Finding[] {
  const findings: Finding[] = [];
  for (const [containerId, events] of streams) {
    const problem = firstDuplicate(events);
    if (problem) {
      findings.push({
        kind: 'docker duplicate',
        detail: `container ${containerId.slice(0, 12)}: ${problem}; its stream: ${describeStream(events)}`,
      });
    }
  }
  return findings;
}

/**
 * At the end, once ds01d has had time to catch up: each harness container's stream holds each of
 * its transitions and ends in Docker's state (running, exited, removed). One recorded too often is
 * the duplicate check's to report; this one reports what is missing.
 */
export function checkContainersAgainstDocker(
  streams: ReadonlyMap<string, readonly RecordedEvent[]>,
  docker: ReadonlyMap<string, DockerState>,
): Finding[] {
  const findings: Finding[] = [];
  for (const [containerId, state] of docker) {
    const events = streams.get(containerId) ?? [];
    const missing = Object.entries(expectedCounts(state))
      .filter(([type, n]) => count(events, type) < n)
      .map(([type, n]) => `${count(events, type)}× ${type}, expected ${n}`);
    const logState = stateOnLog(events);
    if (logState !== state) missing.push(`the log says ${logState}`);
    if (missing.length > 0) {
      findings.push({
        kind: 'docker lost or wrong',
        detail: `container ${containerId.slice(0, 12)} (docker: ${state}): ${missing.join('; ')}; its stream: ${describeStream(events)}`,
      });
    }
  }
  return findings;
}

/** Where the stream leaves the container, in Docker's words. */
function stateOnLog(events: readonly RecordedEvent[]): DockerState | 'unknown' {
  let state: DockerState | 'unknown' = 'unknown';
  for (const event of events) {
    if (event.type === 'ContainerCreated' && state === 'unknown') state = 'created';
    else if (event.type === 'ContainerStarted') state = 'running';
    else if (event.type === 'ContainerStopped') state = 'exited';
    else if (event.type === 'ContainerRemoved') state = 'gone';
  }
  return state;
}

/** Whether the log says what Docker says for every container (what the end waits for). */
export function containersSettled(
  streams: ReadonlyMap<string, readonly RecordedEvent[]>,
  docker: ReadonlyMap<string, DockerState>,
): boolean {
  return checkContainersAgainstDocker(streams, docker).length === 0;
}

function expectedCounts(state: DockerState): Record<string, number> {
  const started = state === 'created' ? 0 : 1;
  return {
    ContainerCreated: 1,
    ContainerDescribed: 1,
    ContainerStarted: started,
    ContainerStopped: state === 'exited' || state === 'gone' ? 1 : 0,
    ContainerRemoved: state === 'gone' ? 1 : 0,
  };
}

function firstDuplicate(events: readonly RecordedEvent[]): string | undefined {
  let running = false;
  let removed = false;
  const seen = new Set<string>();
  for (const [index, event] of events.entries()) {
    const at = `${event.type} at position ${event.position}`;
    if (removed && !DESCRIPTIONS.includes(event.type)) return `${at} after ContainerRemoved`;
    if (ONCE.includes(event.type)) {
      if (seen.has(event.type)) return `${at} a second time`;
      seen.add(event.type);
    }
    // A creation DS01 learned of late (before the watcher subscribed, found by reading the container) is
    // appended when found; one Docker's own event told must come first.
    const observation = (event.data as { observation?: string }).observation;
    if (event.type === 'ContainerCreated' && index > 0 && observation !== 'reconciled') {
      return `${at} after other events`;
    }
    if (event.type === 'ContainerStarted') {
      if (running) return `${at} while running (no ContainerStopped since the last start)`;
      running = true;
    } else if (event.type === 'ContainerStopped') {
      if (!running) return `${at} while not running`;
      running = false;
    } else if (event.type === 'ContainerRemoved') {
      removed = true;
    }
  }
  return undefined;
}

function count(events: readonly RecordedEvent[], type: string): number {
  return events.filter((e) => e.type === type).length;
}

/**
 * `ContainerCreated(observed #812 docker 10:00:01.123456789), ContainerStarted(reconciled #830 read
 * 10:00:02.100..10:00:02.140), …`: each event's observation, log position and the Docker time or read
 * window it came from — what it takes to tell from a report which path recorded what, and when.
 */
export function describeStream(events: readonly RecordedEvent[]): string {
  if (events.length === 0) return '(empty)';
  return events.map((e) => `${e.type}(${eventOrigin(e)})`).join(', ');
}

function eventOrigin(event: RecordedEvent): string {
  const data = event.data as {
    observation?: string;
    dockerEvent?: { timeNano: string } | null;
    snapshot?: { from: string; until: string };
  };
  const parts = [data.observation ?? '?', `#${event.position}`];
  if (data.dockerEvent) parts.push(`docker ${clockOfNano(data.dockerEvent.timeNano)}`);
  if (data.snapshot)
    parts.push(`read ${data.snapshot.from.slice(11, 23)}..${data.snapshot.until.slice(11, 23)}`);
  parts.push(`at ${event.metadata.recordedAt.slice(11, 23)}`);
  return parts.join(' ');
}

/** Docker's nanosecond time as the time of day, to the nanosecond. */
function clockOfNano(timeNano: string): string {
  const nano = BigInt(timeNano);
  const ms = Number(nano / 1_000_000n);
  return `${new Date(ms).toISOString().slice(11, 19)}.${String(nano % 1_000_000_000n).padStart(9, '0')}`;
}
