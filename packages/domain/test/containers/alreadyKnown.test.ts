import { describe, expect, it } from 'vitest';
import {
  alreadyKnown,
  type ContainerEvent,
  type ContainerState,
  evolveContainerState,
} from '../../src/index.ts';

const id = 'a'.repeat(64);
const ref = { containerId: id, name: 'job', observation: 'observed' as const, dockerEvent: null };

// Only the type matters to alreadyKnown; the data is what the watcher would carry.
const started = {
  type: 'ContainerStarted',
  data: { ...ref, startedAt: '2026-11-24T10:00:00.000Z' },
} as ContainerEvent;
const stopped = {
  type: 'ContainerStopped',
  data: { ...ref, exitCode: 0, oomKilled: false, finishedAt: '2026-11-24T10:05:00.000Z' },
} as ContainerEvent;
const removed = { type: 'ContainerRemoved', data: { ...ref } } as ContainerEvent;
const paused = { type: 'ContainerPaused', data: { ...ref } } as ContainerEvent;
const unpaused = { type: 'ContainerUnpaused', data: { ...ref } } as ContainerEvent;

const LOGGED = '2026-11-24T10:00:00.000Z';
const LATER = '2026-11-24T10:00:01.000Z';

function after(...events: ContainerEvent[]): ContainerState | undefined {
  return events.reduce<ContainerState | undefined>(
    (state, event) => evolveContainerState(state, event, LOGGED),
    undefined,
  );
}

describe('alreadyKnown: the same transition recorded by reconciliation and then observed', () => {
  it('knows nothing of a container the log has never seen', () => {
    expect(alreadyKnown(undefined, started, LATER)).toBe(false);
  });

  it('a stop after a (reconciled) stop is the same stop', () => {
    expect(alreadyKnown(after(started, stopped), stopped, LATER)).toBe(true);
    expect(alreadyKnown(after(started), stopped, LATER)).toBe(false);
  });

  it('a start while running is the same start; a start after a stop is a new one', () => {
    expect(alreadyKnown(after(started), started, LATER)).toBe(true);
    expect(alreadyKnown(after(started, stopped), started, LATER)).toBe(false);
  });

  it('pause and unpause follow the state', () => {
    expect(alreadyKnown(after(started, paused), paused, LATER)).toBe(true);
    expect(alreadyKnown(after(started), paused, LATER)).toBe(false);
    expect(alreadyKnown(after(started), unpaused, LATER)).toBe(true);
    expect(alreadyKnown(after(started, paused), unpaused, LATER)).toBe(false);
  });

  it('a container is removed once', () => {
    expect(alreadyKnown(after(started, stopped, removed), removed, LATER)).toBe(true);
    expect(alreadyKnown(after(started, stopped), removed, LATER)).toBe(false);
  });

  it('a start or stop from before the last change the log has is already in it (reconciled after it happened)', () => {
    const EARLIER = '2026-11-24T09:59:59.000Z';
    expect(alreadyKnown(after(started, stopped), started, EARLIER)).toBe(true);
    expect(alreadyKnown(after(started), stopped, EARLIER)).toBe(true);
    expect(alreadyKnown(after(started), paused, EARLIER)).toBe(true);
    // A health change is not a change of status: reconciliation never records one, so none is stale.
    const health = { type: 'ContainerHealthChanged', data: { ...ref, health: 'healthy' } } as ContainerEvent;
    expect(alreadyKnown(after(started), health, EARLIER)).toBe(false);
  });
});

describe('evolveContainerState: an OOM kill, whichever of oom and die Docker reports first', () => {
  const oom = { type: 'ContainerOutOfMemory', data: { ...ref } } as ContainerEvent;

  it('oom before the die: the stop is an OOM kill (from the die context)', () => {
    const oomStop = { ...stopped, data: { ...stopped.data, oomKilled: true } } as ContainerEvent;
    expect(after(started, oom, oomStop)?.oomKilled).toBe(true);
  });

  it('oom after the die of the same run: that stop was the OOM kill', () => {
    expect(after(started, stopped)?.oomKilled).toBe(false);
    expect(after(started, stopped, oom)?.oomKilled).toBe(true);
    expect(after(started, stopped, oom)?.outOfMemorySinceStart).toBe(false);
  });

  it('the next run starts clean', () => {
    expect(after(started, stopped, oom, started, stopped)?.oomKilled).toBe(false);
  });
});
