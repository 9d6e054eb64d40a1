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
} from './events.ts';
import { type ContainerInspect, containerName, dockerTimeOrNull } from './inspect.ts';
import type { ContainerEvent, PlannedContainerEvent } from './planned.ts';

/**
 * Reconciliation: what DS01's log says about containers compared with what the daemon has now
 * (`docker ps -a` + inspect), and the events that close the gap — a container created, started,
 * stopped, paused, renamed or removed while nobody watched. They are marked `reconciled`, and their ids
 * come from the container, the kind of fact and the state found, so reconciling twice appends nothing.
 */

export interface ActualContainer {
  inspect: ContainerInspect;
  /** Its description, for one the log has not described (see needsDescribing): the host layer makes it. */
  description?: ContainerDescription;
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
  /** When reconciliation runs: the time of facts whose time Docker does not keep (a removal). */
  now: string;
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

export function reconcile({ known, actual, goneDescriptions, now }: ReconcileInput): PlannedContainerEvent[] {
  const planned: PlannedContainerEvent[] = [];
  const present = new Set<string>();
  for (const container of actual) {
    present.add(container.inspect.Id);
    planned.push(...reconcileOne(known.get(container.inspect.Id), container, now));
  }
  for (const state of known.values()) {
    if (present.has(state.containerId)) continue;
    const ref = refOf(state.containerId, state.name);
    const description = goneDescriptions?.get(state.containerId);
    if (state.description === null && description) {
      const at = state.createdAt ?? now;
      for (const event of describedEvents(ref, description, 'event-attributes')) {
        if (event.type === 'UnmanagedContainerDetected' && state.unmanaged) continue;
        planned.push(plan(event, at, 'described'));
      }
    }
    if (state.status === 'removed') continue;
    planned.push(plan(ContainerRemoved(ref), now, `removed|after ${state.lastEventAt}`));
  }
  return planned;
}

function refOf(containerId: string, name: string) {
  return { containerId, name, observation: 'reconciled' as const, dockerEvent: null };
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
  { inspect, description }: ActualContainer,
  now: string,
): PlannedContainerEvent[] {
  const id = inspect.Id;
  const name = containerName(inspect);
  const ref = refOf(id, name);
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
    for (const event of describedEvents(ref, description, 'inspect')) {
      if (event.type === 'UnmanagedContainerDetected' && alreadyReported) continue;
      events.push(plan(event, known?.createdAt ?? createdAt, 'described'));
    }
  }

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
    const stoppedAt = finished !== null && finished >= state.lastEventAt ? finished : now;
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
    const startAt = started ?? now;
    events.push(plan(ContainerStarted({ ...ref, startedAt: startAt }), startAt, `${started}|${at(state)}`));
    state = { ...state, status: 'running' };
  }
  if (inspect.State.Paused && state.status === 'running') {
    events.push(plan(ContainerPaused(ref), now, `${started}|${at(state)}`));
    state = { ...state, status: 'paused' };
  }
  if (dockerUp && !inspect.State.Paused && state.status === 'paused') {
    events.push(plan(ContainerUnpaused(ref), now, `${started}|${at(state)}`));
  }
  if (known && known.status !== 'removed' && known.name !== name) {
    events.push(
      plan(ContainerRenamed({ ...ref, oldName: known.name }), now, `${known.name}->${name}|${at(known)}`),
    );
  }
  return events;
}
