import { Ds01Error } from '@ds01/errors';
import type { ContainerState } from './containerState.ts';
import { type ContainerDescription, timeNanoOfDockerTime, timeNanoOfInstant } from './description.ts';
import { describedEvents, instantOfTimeNano } from './dockerEvents.ts';
import { reconciledEventId } from './eventIds.ts';
import {
  ContainerCreated,
  ContainerPaused,
  ContainerRemoved,
  ContainerRenamed,
  ContainerStarted,
  ContainerStopped,
  ContainerUnpaused,
  type SnapshotWindow,
} from './events.ts';
import { type ContainerInspect, containerName, dockerTimeOrNull } from './inspect.ts';
import type { ContainerEvent, PlannedContainerEvent } from './planned.ts';

/**
 * Reconciliation: what DS01's log says about containers compared with what the daemon has now
 * (`docker ps -a` + inspect), and the events that close the gap — a container created, started,
 * stopped, paused, renamed or removed while nobody watched. They are marked `reconciled`, carry the
 * window in which their state was read (so that Docker's own events of the same moments, arriving later,
 * are recognised: see decideDockerEvent), and their ids come from the container, the kind of fact and the
 * state found, so reconciling twice appends nothing. A time Docker does not keep (a removal, a pause) is
 * the start of that window: the latest moment the fact is sure to precede. The log given must not be
 * newer than the read: the watcher holds back the container's Docker events while it reads and records.
 */

export interface ActualContainer {
  inspect: ContainerInspect;
  /** Its description, for one the log has not described (see needsDescribing): the host layer makes it. */
  description?: ContainerDescription;
  /** When its inspect was sent and when the answer came back. */
  window: SnapshotWindow;
}

export interface ReconcileInput {
  /** Every container the log knows, removed ones included. */
  known: ReadonlyMap<string, ContainerState>;
  /** Every container the daemon has. */
  actual: readonly ActualContainer[];
  /**
   * For containers the log knows but never described and the daemon no longer has: their description
   * from what their ContainerCreated recorded (name, image, labels). The host layer makes them.
   */
  goneDescriptions?: ReadonlyMap<string, ContainerDescription>;
  /**
   * When `docker ps -a` was sent and answered: a container the log knows and the list lacks was removed
   * before it.
   */
  listed: SnapshotWindow;
  /**
   * Containers removed while the daemon was read: listed but gone before their inspect, or with Docker
   * events since the list began. Not reconciled as removed: their removal is after the watcher
   * subscribed, so Docker's own events of it are on the stream the watcher follows.
   */
  vanished?: ReadonlySet<string>;
}

export class MissingDescriptionForReconcileError extends Ds01Error {
  override readonly name = 'MissingDescriptionForReconcileError';
}

/**
 * Whether the host layer must describe this container for reconciliation: one the log has never seen
 * (or saw removed), or one whose ContainerCreated was recorded but whose description never was (the
 * watcher stopped while dockerd still held the container's lock).
 */
export function needsDescribing(known: ContainerState | undefined): boolean {
  return !known || known.status === 'removed' || known.description === null;
}

export function reconcile({
  known,
  actual,
  goneDescriptions,
  listed,
  vanished,
}: ReconcileInput): PlannedContainerEvent[] {
  const planned: PlannedContainerEvent[] = [];
  const present = new Set<string>();
  for (const container of actual) {
    present.add(container.inspect.Id);
    planned.push(...reconcileOne(known.get(container.inspect.Id), container));
  }
  for (const state of known.values()) {
    if (present.has(state.containerId)) continue;
    const ref = refOf(state.containerId, state.name, listed);
    const description = goneDescriptions?.get(state.containerId);
    if (state.description === null && description) {
      const at = nano(state.createdAt ?? listed.from);
      for (const event of describedEvents(unread(ref), description, 'event-attributes')) {
        if (event.type === 'UnmanagedContainerDetected' && state.unmanaged) continue;
        planned.push(plan(event, at, 'described'));
      }
    }
    if (state.status === 'removed' || vanished?.has(state.containerId)) continue;
    planned.push(plan(ContainerRemoved(ref), nano(listed.from), `removed|after ${state.lastEventAt}`));
  }
  return planned;
}

const nano = (instant: string) => BigInt(timeNanoOfInstant(instant));

function refOf(containerId: string, name: string, snapshot: SnapshotWindow) {
  return { containerId, name, observation: 'reconciled' as const, dockerEvent: null, snapshot };
}

/** A description is no reading of the container's status: its events carry no snapshot window. */
function unread({ snapshot: _snapshot, ...ref }: ReturnType<typeof refOf>) {
  return ref;
}

/** A reconciled fact at Docker's time `at` (nanoseconds), its id from the container's state it closes. */
function plan(event: ContainerEvent, at: bigint, stateKey: string): PlannedContainerEvent {
  return {
    eventId: reconciledEventId(event.data.containerId, event.type, stateKey),
    occurredAt: instantOfTimeNano(`${at}`),
    event: { ...event, data: { ...event.data, dockerTimeNano: `${at}` } } as ContainerEvent,
  };
}

/** What reconciliation tracks of the log's state as it adds facts: `at` is the last change's Docker time. */
interface Tracked {
  status: ContainerState['status'];
  at: bigint;
}

function reconcileOne(
  known: ContainerState | undefined,
  { inspect, description, window }: ActualContainer,
): PlannedContainerEvent[] {
  const id = inspect.Id;
  const name = containerName(inspect);
  const ref = refOf(id, name, window);
  const readFrom = nano(window.from);
  const events: PlannedContainerEvent[] = [];
  let state: Tracked;

  if (needsDescribing(known) && !description) {
    throw new MissingDescriptionForReconcileError(
      `container ${id} is not described in the log: describe it first`,
    );
  }
  const created = BigInt(timeNanoOfDockerTime(inspect.Created));
  const createdEvent = ContainerCreated({
    ...ref,
    image: inspect.Config.Image,
    labels: inspect.Config.Labels,
  });
  if (!known || known.status === 'removed') {
    events.push(plan(createdEvent, created, 'created'));
    state = { status: 'created', at: created };
  } else {
    // Known from its events but not from its creation (created just before the watcher subscribed).
    if (known.createdAt === null) events.push(plan(createdEvent, created, 'created'));
    state = {
      status: known.status,
      at: BigInt(known.lastTransitionNano ?? timeNanoOfInstant(known.lastEventAt)),
    };
  }
  if (description && needsDescribing(known)) {
    const alreadyReported = known !== undefined && known.status !== 'removed' && known.unmanaged;
    const describedAt = known?.createdAt ? nano(known.createdAt) : created;
    for (const event of describedEvents(unread(ref), description, 'inspect')) {
      if (event.type === 'UnmanagedContainerDetected' && alreadyReported) continue;
      events.push(plan(event, describedAt, 'described'));
    }
  }

  const startedAt = dockerTimeOrNull(inspect.State.StartedAt);
  const finishedAt = dockerTimeOrNull(inspect.State.FinishedAt);
  const started = startedAt === null ? null : BigInt(timeNanoOfDockerTime(startedAt));
  const finished = finishedAt === null ? null : BigInt(timeNanoOfDockerTime(finishedAt));
  const isUp = (s: Tracked) => s.status === 'running' || s.status === 'paused';
  const dockerUp = inspect.State.Running || inspect.State.Restarting;
  // Docker's latest run began after every change the log has: it happened while nobody watched.
  const missedStart = started !== null && started > state.at;
  const after = (s: Tracked) => `after ${s.at}`;
  const iso = (at: bigint) => instantOfTimeNano(`${at}`);

  if (missedStart && isUp(state)) {
    // It was running, and was started again since: it stopped in between, exit unknown.
    const stoppedAt = finished !== null && finished > state.at && finished <= started ? finished : started;
    events.push(
      plan(
        ContainerStopped({ ...ref, exitCode: null, oomKilled: false, finishedAt: iso(stoppedAt) }),
        stoppedAt,
        `restart gap|${started}|${after(state)}`,
      ),
    );
    state = { status: 'exited', at: stoppedAt };
  }
  if (missedStart) {
    events.push(
      plan(ContainerStarted({ ...ref, startedAt: iso(started) }), started, `${started}|${after(state)}`),
    );
    state = { status: 'running', at: started };
  }
  if (!dockerUp && isUp(state)) {
    // Docker may time the exit before the start it follows (a process that ends at once): never before
    // what the log already has.
    const stoppedAt = finished === null ? readFrom : finished > state.at ? finished : state.at;
    const stopped = ContainerStopped({
      ...ref,
      exitCode: inspect.State.ExitCode,
      oomKilled: inspect.State.OOMKilled,
      finishedAt: iso(stoppedAt),
    });
    events.push(plan(stopped, stoppedAt, `${finished}|${after(state)}`));
    state = { status: 'exited', at: stoppedAt };
  }
  if (dockerUp && !isUp(state)) {
    // Docker runs it, the log has it stopped, with no start since: a start the log lost. Say it now.
    const startAt = started !== null && started > state.at ? started : readFrom;
    events.push(
      plan(ContainerStarted({ ...ref, startedAt: iso(startAt) }), startAt, `${started}|${after(state)}`),
    );
    state = { status: 'running', at: startAt };
  }
  if (inspect.State.Paused && state.status === 'running') {
    events.push(plan(ContainerPaused(ref), readFrom, `${started}|${after(state)}`));
    state = { status: 'paused', at: readFrom };
  }
  if (dockerUp && !inspect.State.Paused && state.status === 'paused') {
    events.push(plan(ContainerUnpaused(ref), readFrom, `${started}|${after(state)}`));
  }
  if (known && known.status !== 'removed' && known.name !== name) {
    events.push(
      plan(
        ContainerRenamed({ ...ref, oldName: known.name }),
        readFrom,
        `${known.name}->${name}|${after(state)}`,
      ),
    );
  }
  return events;
}
