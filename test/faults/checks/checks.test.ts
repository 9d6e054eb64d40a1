import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { RecordedEvent } from '@ds01/event-store';
import { openProjectionsDb } from '@ds01/projections';
import { describe, expect, it } from 'vitest';
import type { AllocateRecord, ReleaseRecord } from '../ledger.ts';
import { checkCommands } from './commandsCheck.ts';
import { checkContainerStreams, checkContainersAgainstDocker } from './containersCheck.ts';
import { checkPool } from './poolCheck.ts';
import { compareReadModels } from './projectionsCheck.ts';

/** The checks must fire on what they look for: a harness whose checks never fail proves nothing. */

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
let position = 0;

function event(type: string, data: Record<string, unknown>, streamId = 'gpu-pool-h'): RecordedEvent {
  position += 1;
  return {
    type,
    version: 1,
    data,
    streamId,
    revision: position - 1,
    position,
    metadata: {
      eventId: `e${position}`,
      occurredAt: '2026-01-01T00:00:00.000Z',
      recordedAt: '2026-01-01T00:00:00.000Z',
      actor: { kind: 'user', name: 'root' },
      host: 'h',
      correlationId: `c${position}`,
      causationId: null,
    },
  };
}
const allocated = (containerId: string, slot: string, requestId = `r-${containerId[0]}`) =>
  event('GpuAllocated', { requestId, slot, containerId });
const released = (containerId: string, slot: string) => event('GpuReleased', { slot, containerId });
const allocate = (
  containerId: string,
  outcome: AllocateRecord['outcome'],
  slots = ['1.0'],
): AllocateRecord => ({
  kind: 'allocate',
  user: 'faults1',
  containerId,
  outcome,
  ...(outcome === 'acknowledged'
    ? { answer: { granted: true, requestId: `r-${containerId[0]}`, slots } }
    : {}),
});
const release = (
  containerId: string,
  outcome: ReleaseRecord['outcome'],
  slots?: string[],
): ReleaseRecord => ({
  kind: 'release',
  user: 'faults1',
  containerId,
  outcome,
  ...(slots ? { released: slots } : {}),
});

describe('the commands check', () => {
  it('passes a log that holds each acknowledged command once', () => {
    const log = [allocated(A, '1.0'), released(A, '1.0')];
    expect(checkCommands(log, [allocate(A, 'acknowledged'), release(A, 'acknowledged', ['1.0'])])).toEqual(
      [],
    );
  });

  it('finds an acknowledged allocation or release that is not on the log', () => {
    const findings = checkCommands(
      [allocated(A, '1.0')],
      [allocate(A, 'acknowledged'), release(A, 'acknowledged', ['1.0']), allocate(B, 'acknowledged')],
    );
    expect(findings.map((f) => f.kind)).toEqual(['lost', 'lost']);
  });

  it('lets a killed command be there or not, never twice', () => {
    expect(checkCommands([], [allocate(A, 'killed')])).toEqual([]);
    expect(checkCommands([allocated(A, '1.0')], [allocate(A, 'killed')])).toEqual([]);
    const twice = checkCommands(
      [allocated(A, '1.0'), allocated(A, '2.0', 'r-other')],
      [allocate(A, 'killed')],
    );
    expect(twice.map((f) => f.kind)).toEqual(['duplicated']);
  });

  it('finds a recorded allocation that a later release could not see', () => {
    const findings = checkCommands(
      [allocated(A, '1.0')],
      [allocate(A, 'killed'), release(A, 'acknowledged', [])],
    );
    expect(findings.map((f) => f.kind)).toEqual(['lost']);
  });
});

describe('the pool check', () => {
  it('finds a slot granted while held, and one released while free', () => {
    const log = [allocated(A, '1.0'), allocated(B, '1.0'), released(B, '1.0'), released(B, '1.0')];
    expect(checkPool(log).map((f) => f.kind)).toEqual(['slot conflict', 'slot conflict']);
    expect(checkPool([allocated(A, '1.0'), released(A, '1.0'), allocated(B, '1.0')])).toEqual([]);
  });
});

describe('the container checks', () => {
  const stream = `container-${A}`;
  const c = (type: string, observation = 'observed') => event(type, { observation }, stream);

  it('finds a start recorded twice, even where start and stop alternate', () => {
    const once = [
      c('ContainerCreated'),
      c('ContainerDescribed'),
      c('ContainerStarted'),
      c('ContainerStopped'),
    ];
    expect(checkContainerStreams(new Map([[A, once]]))).toEqual([]);
    const twice = [...once, c('ContainerStarted', 'reconciled'), c('ContainerStopped', 'reconciled')];
    const [finding] = checkContainerStreams(new Map([[A, twice]]));
    expect(finding?.kind).toBe('docker duplicate');
    expect(finding?.detail).toMatch(
      /ContainerStarted\(reconciled #\d+ at [\d:.]+\), ContainerStopped\(reconciled #\d+/,
    );
  });

  it('allows a description after removal, not a transition', () => {
    const described = [
      c('ContainerCreated'),
      c('ContainerStarted'),
      c('ContainerStopped'),
      c('ContainerRemoved'),
      c('ContainerDescribed'),
    ];
    expect(checkContainerStreams(new Map([[A, described]]))).toEqual([]);
    const stopped = [
      c('ContainerCreated'),
      c('ContainerStarted'),
      c('ContainerRemoved'),
      c('ContainerStopped'),
    ];
    expect(checkContainerStreams(new Map([[A, stopped]])).map((f) => f.kind)).toEqual(['docker duplicate']);
  });

  it('allows a creation found late by reconciliation after observed events, once; not an observed one', () => {
    const late = [c('ContainerStarted'), c('ContainerStopped'), c('ContainerCreated', 'reconciled')];
    expect(checkContainerStreams(new Map([[A, late]]))).toEqual([]);
    const observedLate = [c('ContainerStarted'), c('ContainerCreated')];
    expect(checkContainerStreams(new Map([[A, observedLate]])).map((f) => f.kind)).toEqual([
      'docker duplicate',
    ]);
  });

  it("finds a transition missing against Docker's state, and a wrong final state", () => {
    const running = [c('ContainerCreated'), c('ContainerDescribed'), c('ContainerStarted')];
    expect(checkContainersAgainstDocker(new Map([[A, running]]), new Map([[A, 'running']]))).toEqual([]);
    const [gone] = checkContainersAgainstDocker(new Map([[A, running]]), new Map([[A, 'gone']]));
    expect(gone?.detail).toContain(
      '0× ContainerStopped, expected 1; 0× ContainerRemoved, expected 1; the log says running',
    );
    expect(checkContainersAgainstDocker(new Map(), new Map([[B, 'exited']])).map((f) => f.kind)).toEqual([
      'docker lost or wrong',
    ]);
  });
});

describe('the read models comparison', () => {
  it('finds a row that differs from the rebuild, and a checkpoint that does', () => {
    const folder = mkdtempSync(join(tmpdir(), 'ds01-faults-check-'));
    try {
      const make = (file: string, rows: string[], checkpoint: number) => {
        openProjectionsDb(join(folder, file)).close();
        const db = new DatabaseSync(join(folder, file));
        db.exec('CREATE TABLE users (user TEXT)');
        for (const row of rows) db.prepare('INSERT INTO users VALUES (?)').run(row);
        db.prepare("INSERT INTO checkpoints VALUES ('users', ?, 1, 'now', NULL)").run(checkpoint);
        db.close();
      };
      make('live.db', ['ana', 'ben'], 7);
      make('same.db', ['ben', 'ana'], 7);
      make('twice.db', ['ana', 'ben', 'ben'], 8);
      expect(compareReadModels(join(folder, 'live.db'), join(folder, 'same.db'))).toEqual([]);
      const findings = compareReadModels(join(folder, 'live.db'), join(folder, 'twice.db'));
      expect(findings.map((f) => f.detail.split(':')[0])).toEqual(['table users', 'checkpoints']);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
