import {
  type ActualContainer,
  type ContainerState,
  type DescribeFacts,
  describeContainer,
  evolveContainerState,
  type PlannedContainerEvent,
  reconcile,
  userDirectoryOf,
} from '@ds01/domain';
import { describe, expect, it } from 'vitest';
import { type InspectChanges, inspectWith } from './inspectFixture.ts';

const ID = 'b'.repeat(64);
const NOW = '2026-11-24T15:00:00.000Z';
/** When the daemon was read: everything before is part of what reconciliation sees. */
const WINDOW = { from: NOW, until: '2026-11-24T15:00:00.020Z' };
const facts: DescribeFacts = { users: userDirectoryOf([]), pathOwners: new Map(), defaultRuntime: 'runc' };

const CREATED = '2026-11-24T10:00:00.000000001Z';
const T1 = '2026-11-24T11:00:00.000000001Z';
const T2 = '2026-11-24T12:00:00.000000001Z';
const T3 = '2026-11-24T13:00:00.000000001Z';
const ZERO = '0001-01-01T00:00:00Z';

/** The daemon's view of the container now. */
const docker = (state: InspectChanges['state'], changes: InspectChanges = {}): ActualContainer => {
  const inspect = inspectWith({ id: ID, name: 'box', labels: {}, ...changes, state });
  return {
    inspect: { ...inspect, Created: CREATED },
    description: describeContainer({ ...inspect, Created: CREATED }, facts),
    window: WINDOW,
  };
};
const running = (startedAt: string) => ({
  Status: 'running',
  Running: true,
  StartedAt: startedAt,
  FinishedAt: ZERO,
});
const exited = (startedAt: string, finishedAt: string, ExitCode = 0, OOMKilled = false) => ({
  Status: 'exited',
  Running: false,
  StartedAt: startedAt,
  FinishedAt: finishedAt,
  ExitCode,
  OOMKilled,
});

/** Given the log's planned events (folded into state), when reconciling with the daemon, then these events. */
function given(history: PlannedContainerEvent[]) {
  let state: ContainerState | undefined;
  for (const p of history) state = evolveContainerState(state, p.event, p.occurredAt);
  const known = new Map(state ? [[ID, state]] : []);
  return {
    when: (actual: ActualContainer[]) => {
      const events = reconcile({ known, actual, listed: WINDOW });
      return { events, types: events.map((p) => p.event.type), andThen: given([...history, ...events]) };
    },
  };
}

describe('reconciliation: docker ps -a against the log', () => {
  it('a container created, started and stopped while nobody watched is recorded, marked reconciled', () => {
    const { events, types } = given([]).when([docker(exited(T1, T2, 3, true))]);
    expect(types).toEqual([
      'ContainerCreated',
      'ContainerDescribed',
      'UnmanagedContainerDetected',
      'ContainerStarted',
      'ContainerStopped',
    ]);
    for (const p of events)
      expect(p.event.data).toMatchObject({ observation: 'reconciled', dockerEvent: null });
    expect(events[1]!.event.data).toMatchObject({ describedFrom: 'inspect' });
    expect(events[4]!.event.data).toMatchObject({
      exitCode: 3,
      oomKilled: true,
      finishedAt: '2026-11-24T12:00:00.000Z',
    });
    expect(events.map((p) => p.occurredAt)).toEqual([
      '2026-11-24T10:00:00.000Z',
      '2026-11-24T10:00:00.000Z',
      '2026-11-24T10:00:00.000Z',
      '2026-11-24T11:00:00.000Z',
      '2026-11-24T12:00:00.000Z',
    ]);
  });

  it('a managed container never started: only ContainerCreated', () => {
    const { types } = given([]).when([
      docker(
        { Status: 'created', StartedAt: ZERO, FinishedAt: ZERO },
        { labels: { 'ds01.managed': 'true' } },
      ),
    ]);
    expect(types).toEqual(['ContainerCreated', 'ContainerDescribed']);
  });

  it('created in the log but never described (the watcher stopped first), still there: described from inspect', () => {
    const createdOnly = given([])
      .when([docker(running(T1))])
      .events.filter((p) => p.event.type === 'ContainerCreated');
    const { events, types, andThen } = given(createdOnly).when([docker(running(T1))]);
    expect(types).toEqual(['ContainerDescribed', 'UnmanagedContainerDetected', 'ContainerStarted']);
    expect(events[0]!.event.data).toMatchObject({ describedFrom: 'inspect', observation: 'reconciled' });
    expect(events[0]!.occurredAt).toBe('2026-11-24T10:00:00.000Z');
    expect(andThen.when([docker(running(T1))]).types).toEqual([]);
  });

  it('created in the log but never described, and gone: described from what its creation recorded, then removed', () => {
    const createdOnly = given([])
      .when([docker(running(T1))])
      .events.filter((p) => p.event.type === 'ContainerCreated');
    let state: ContainerState | undefined;
    for (const p of createdOnly) state = evolveContainerState(state, p.event, p.occurredAt);
    const goneDescription = describeContainer(
      inspectWith({ id: ID, name: 'box', labels: { 'ds01.user': 'alice' } }),
      facts,
    );
    const events = reconcile({
      known: new Map([[ID, state!]]),
      actual: [],
      goneDescriptions: new Map([[ID, goneDescription]]),
      listed: WINDOW,
    });
    expect(events.map((p) => p.event.type)).toEqual([
      'ContainerDescribed',
      'UnmanagedContainerDetected',
      'ContainerRemoved',
    ]);
    expect(events[0]!.event.data).toMatchObject({ describedFrom: 'event-attributes' });
  });

  it('a container that needs describing and has no description is refused, naming it', () => {
    const { inspect } = docker(running(T1));
    expect(() =>
      reconcile({ known: new Map(), actual: [{ inspect, window: WINDOW }], listed: WINDOW }),
    ).toThrow(new RegExp(`container ${ID} is not described`));
  });

  it('reconciling the same state twice gives the same ids, and nothing once the log has them', () => {
    const first = given([]).when([docker(running(T1))]);
    const again = given([]).when([docker(running(T1))]);
    expect(again.events.map((p) => p.eventId)).toEqual(first.events.map((p) => p.eventId));
    expect(first.andThen.when([docker(running(T1))]).types).toEqual([]);
  });

  it('a container removed while nobody watched: ContainerRemoved at reconciliation time', () => {
    const { andThen } = given([]).when([docker(running(T1))]);
    const removed = andThen.when([]);
    expect(removed.types).toEqual(['ContainerRemoved']);
    expect(removed.events[0]!.occurredAt).toBe(NOW);
    expect(removed.andThen.when([]).types).toEqual([]);
  });

  it('stopped while nobody watched: ContainerStopped with the exit code', () => {
    const { andThen } = given([]).when([docker(running(T1))]);
    const stopped = andThen.when([docker(exited(T1, T2, 137))]);
    expect(stopped.types).toEqual(['ContainerStopped']);
    expect(stopped.events[0]!.event.data).toMatchObject({ exitCode: 137 });
  });

  it('restarted while nobody watched (running before and after): a stop, then the new start', () => {
    const { andThen } = given([]).when([docker(running(T1))]);
    const restarted = andThen.when([docker({ ...running(T3), FinishedAt: T2 })]);
    expect(restarted.types).toEqual(['ContainerStopped', 'ContainerStarted']);
    expect(restarted.events[0]!.event.data).toMatchObject({
      exitCode: null,
      finishedAt: '2026-11-24T12:00:00.000Z',
    });
    expect(restarted.events[1]!.event.data).toMatchObject({ startedAt: '2026-11-24T13:00:00.000Z' });
  });

  it('started again and stopped again while nobody watched: a start and a stop', () => {
    const { andThen } = given([]).when([docker(exited(T1, T2))]);
    expect(andThen.when([docker(exited(T3, '2026-11-24T14:00:00Z'))]).types).toEqual([
      'ContainerStarted',
      'ContainerStopped',
    ]);
  });

  it('paused and renamed while nobody watched', () => {
    const { andThen } = given([]).when([docker(running(T1))]);
    const changed = andThen.when([docker({ ...running(T1), Paused: true }, { name: 'renamed' })]);
    expect(changed.types).toEqual(['ContainerPaused', 'ContainerRenamed']);
    expect(changed.events[1]!.event.data).toMatchObject({ name: 'renamed', oldName: 'box' });
    expect(
      changed.andThen.when([docker({ ...running(T1), Paused: true }, { name: 'renamed' })]).types,
    ).toEqual([]);
  });

  it('what the watcher observed is not reconciled again (observed times are after Docker`s own)', () => {
    const observedStart: PlannedContainerEvent[] = given([]).when([
      docker({ Status: 'created', StartedAt: ZERO, FinishedAt: ZERO }),
    ]).events;
    let history = [...observedStart];
    // The watcher saw the start a few ms after Docker's StartedAt.
    history = [
      ...history,
      {
        eventId: 'x',
        occurredAt: '2026-11-24T11:00:00.004Z',
        event: {
          type: 'ContainerStarted',
          data: {
            containerId: ID,
            name: 'box',
            observation: 'observed',
            dockerEvent: null,
            startedAt: '2026-11-24T11:00:00.004Z',
          },
        },
      },
    ];
    expect(given(history).when([docker(running(T1))]).types).toEqual([]);
  });
});

describe('reconciliation of a container known only from events after its creation', () => {
  it('records its creation (from inspect), and nothing already known', () => {
    const started = given([])
      .when([docker(running(T1))])
      .events.filter((p) => p.event.type === 'ContainerStarted');
    const { types } = given(started).when([docker(running(T1))]);
    expect(types).toEqual(['ContainerCreated', 'ContainerDescribed', 'UnmanagedContainerDetected']);
  });
});
