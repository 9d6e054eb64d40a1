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

function after(...events: ContainerEvent[]): ContainerState | undefined {
  return events.reduce<ContainerState | undefined>(
    (state, event) => evolveContainerState(state, event, '2026-11-24T10:00:00.000Z'),
    undefined,
  );
}

describe('alreadyKnown: the same transition recorded by reconciliation and then observed', () => {
  it('knows nothing of a container the log has never seen', () => {
    expect(alreadyKnown(undefined, started)).toBe(false);
  });

  it('a stop after a (reconciled) stop is the same stop', () => {
    expect(alreadyKnown(after(started, stopped), stopped)).toBe(true);
    expect(alreadyKnown(after(started), stopped)).toBe(false);
  });

  it('a start while running is the same start; a start after a stop is a new one', () => {
    expect(alreadyKnown(after(started), started)).toBe(true);
    expect(alreadyKnown(after(started, stopped), started)).toBe(false);
  });

  it('pause and unpause follow the state', () => {
    expect(alreadyKnown(after(started, paused), paused)).toBe(true);
    expect(alreadyKnown(after(started), paused)).toBe(false);
    expect(alreadyKnown(after(started), unpaused)).toBe(true);
    expect(alreadyKnown(after(started, paused), unpaused)).toBe(false);
  });

  it('a container is removed once', () => {
    expect(alreadyKnown(after(started, stopped, removed), removed)).toBe(true);
    expect(alreadyKnown(after(started, stopped), removed)).toBe(false);
  });
});
