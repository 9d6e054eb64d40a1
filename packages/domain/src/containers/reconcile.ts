import type { ContainerState } from './containerState.ts';
import { type ContainerDescription, isoInstant } from './description.ts';
import { describedEvents } from './dockerEvents.ts';
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
 * the start of that window: the latest moment the fact is sure to precede.
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
}

export class MissingDescriptionForReconcileError extends Error {
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
      const at = state.createdAt ?? listed.from;
      for (const event of describedEvents(unread(ref), description, 'event-attributes')) {
        if (event.type === 'UnmanagedContainerDetected' && state.unmanaged) continue;
        planned.push(plan(event, at, 'described'));
      }
    }
    if (state.status === 'removed' || newerThan(state, listed)) continue;
    planned.push(plan(ContainerRemoved(ref), listed.from, `removed|after ${state.lastEventAt}`));
  }
  return planned;
}

/**
 * Whether the log has a change of status that happened after the state was read: the read is older than
 * what the log tells, and Docker's events (which the watcher follows from before it reads) tell the rest.
 */
function newerThan(state: ContainerState, window: SnapshotWindow): boolean {
  return state.lastTransitionAt !== null && state.lastTransitionAt > window.from;
}

function refOf(containerId: string, name: string, snapshot: SnapshotWindow) {
  return { containerId, name, observation: 'reconciled' as const, dockerEvent: null, snapshot };
}

/** A description is no reading of the container's status: its events carry no snapshot window. */
function unread({ snapshot: _snapshot, ...ref }: ReturnType<typeof refOf>) {
  return ref;
}

function plan(event: ContainerEvent, occurredAt: string, stateKey: string): PlannedContainerEvent {
  return {
    eventId: reconciledEventId(event.data.containerId, event.type, stateKey),
    occurredAt,
    event,
  };
}

type Tracked = Pick<ContainerState, 'status' | 'name' | 'lastEventAt'>;

function reconcileOne(
  known: ContainerState | undefined,
  { inspect, description, window }: ActualContainer,
): PlannedContainerEvent[] {
  const id = inspect.Id;
  const name = containerName(inspect);
  const ref = refOf(id, name, window);
  const readFrom = window.from;
  const events: PlannedContainerEvent[] = [];
  let state: Tracked;

  if (needsDescribing(known) && !description) {
    throw new MissingDescriptionForReconcileError(
      `container ${id} is not described in the log: describe it first`,
    );
  }
  const createdAt = isoInstant(inspect.Created);
  if (!known || known.status === 'removed') {
    const created = ContainerCreated({ ...ref, image: inspect.Config.Image, labels: inspect.Config.Labels });
    events.push(plan(created, createdAt, 'created'));
    state = { status: 'created', name, lastEventAt: createdAt };
  } else {
    state = known;
  }
  if (description && needsDescribing(known)) {
    const alreadyReported = known !== undefined && known.status !== 'removed' && known.unmanaged;
    for (const event of describedEvents(unread(ref), description, 'inspect')) {
      if (event.type === 'UnmanagedContainerDetected' && alreadyReported) continue;
      events.push(plan(event, known?.createdAt ?? createdAt, 'described'));
    }
  }

  if (known && known.status !== 'removed' && newerThan(known, window)) return events;

  const startedAt = dockerTimeOrNull(inspect.State.StartedAt);
  const finishedAt = dockerTimeOrNull(inspect.State.FinishedAt);
  const started = startedAt === null ? null : isoInstant(startedAt);
  const finished = finishedAt === null ? null : isoInstant(finishedAt);
  const isUp = (s: Tracked) => s.status === 'running' || s.status === 'paused';
  const dockerUp = inspect.State.Running || inspect.State.Restarting;
  // A start after everything the log knows: it happened while nobody watched.
  const missedStart = started !== null && started > state.lastEventAt;
  const at = (s: Tracked) => `after ${s.lastEventAt}`;

  if (missedStart && isUp(state)) {
    // It was running, and was started again since: it stopped in between, exit unknown.
    const stoppedAt =
      finished !== null && finished > state.lastEventAt && finished <= started ? finished : started;
    events.push(
      plan(
        ContainerStopped({ ...ref, exitCode: null, oomKilled: false, finishedAt: stoppedAt }),
        stoppedAt,
        `restart gap|${started}|${at(state)}`,
      ),
    );
    state = { ...state, status: 'exited', lastEventAt: stoppedAt };
  }
  if (missedStart) {
    events.push(plan(ContainerStarted({ ...ref, startedAt: started }), started, `${started}|${at(state)}`));
    state = { ...state, status: 'running', lastEventAt: started };
  }
  if (!dockerUp && isUp(state)) {
    // Docker may time the exit before the start it follows (a process that ends at once): never before
    // what the log already has.
    const stoppedAt = finished === null ? readFrom : [finished, state.lastEventAt].sort()[1]!;
    const stopped = ContainerStopped({
      ...ref,
      exitCode: inspect.State.ExitCode,
      oomKilled: inspect.State.OOMKilled,
      finishedAt: stoppedAt,
    });
    events.push(plan(stopped, stoppedAt, `${finished}|${at(state)}`));
    state = { ...state, status: 'exited', lastEventAt: stoppedAt };
  }
  if (dockerUp && !isUp(state)) {
    // Docker runs it, the log has it stopped, with no start since: a start the log lost. Say it now.
    const startAt = started ?? readFrom;
    events.push(plan(ContainerStarted({ ...ref, startedAt: startAt }), startAt, `${started}|${at(state)}`));
    state = { ...state, status: 'running' };
  }
  if (inspect.State.Paused && state.status === 'running') {
    events.push(plan(ContainerPaused(ref), readFrom, `${started}|${at(state)}`));
    state = { ...state, status: 'paused' };
  }
  if (dockerUp && !inspect.State.Paused && state.status === 'paused') {
    events.push(plan(ContainerUnpaused(ref), readFrom, `${started}|${at(state)}`));
  }
  if (known && known.status !== 'removed' && known.name !== name) {
    events.push(
      plan(
        ContainerRenamed({ ...ref, oldName: known.name }),
        readFrom,
        `${known.name}->${name}|${at(known)}`,
      ),
    );
  }
  return events;
}
