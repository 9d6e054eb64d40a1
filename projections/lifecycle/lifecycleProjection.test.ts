import {
  ContainerCreated,
  ContainerResourceWindowRecorded,
  ContainerStarted,
  evolveLifecycle,
  initialLifecycleState,
  RetirementScheduled,
} from '@ds01/domain';
import { describe, expect, it } from 'vitest';
import { projectionSpec } from '../runner/projectionSpec.ts';
import { lifecycleProjection } from './lifecycleProjection.ts';

const ID = 'b'.repeat(64);
const OTHER = 'c'.repeat(64);
const ref = { containerId: ID, name: 'box', observation: 'observed' as const, dockerEvent: null };
const window = (containerId: string, start: string, end: string) =>
  ContainerResourceWindowRecorded({
    host: 'h',
    windowStart: start,
    windowEnd: end,
    containerId,
    user: 'alice',
    samples: 1,
    cpuSeconds: 0,
    cpuMeanCores: 0,
    cpuMaxCores: 0,
    memoryMaxBytes: 0,
    memoryLimitBytes: null,
    ioReadBytes: 0,
    ioWriteBytes: 0,
    pidsMax: 1,
    networkRxBytes: 0,
    networkTxBytes: 0,
  });
const events = [
  ContainerCreated({ ...ref, image: 'busybox', labels: { 'ds01.user': 'alice' } }),
  ContainerStarted({ ...ref, startedAt: '2025-01-01T00:01:00.000Z' }),
  window(ID, '2025-01-01T00:05:00.000Z', '2025-01-01T00:10:00.000Z'),
  RetirementScheduled({
    retirementId: 'r1',
    containerId: ID,
    user: 'alice',
    containerName: 'box',
    reason: 'max_runtime',
    action: 'stop',
    dueAt: '2025-01-02T00:01:00.000Z',
    at: '2025-01-02T00:01:00.000Z',
    graceSeconds: 60,
    warn: true,
    detail: 'running since ...',
  }),
];

describe('lifecycle projection', () => {
  it("keeps the domain's own fold of each container, and the lifecycle stream's revision", () => {
    const rows = projectionSpec(lifecycleProjection)
      .given(
        { ...events[0]!, stream: `container-${ID}`, occurredAt: '2025-01-01T00:00:00.000Z' },
        { ...events[1]!, stream: `container-${ID}`, occurredAt: '2025-01-01T00:01:00.000Z' },
        { ...events[2]!, stream: 'container-usage-h-2025-01-01', occurredAt: '2025-01-01T00:10:00.000Z' },
      )
      .when({ ...events[3]!, stream: `lifecycle-${ID}`, occurredAt: '2025-01-01T00:11:00.000Z' })
      .rows('SELECT container_id, user, status, pending_reason, pending_at, revision, state FROM lifecycle');
    const occurred = ['2025-01-01T00:00:00.000Z', '2025-01-01T00:01:00.000Z', '2025-01-01T00:10:00.000Z', ''];
    const fold = events.reduce((s, e, i) => evolveLifecycle(s, e, occurred[i]), initialLifecycleState(ID));
    expect(rows).toHaveLength(1);
    expect({ ...rows[0], state: JSON.parse(rows[0]!['state'] as string) }).toEqual({
      container_id: ID,
      user: 'alice',
      status: 'running',
      pending_reason: 'max_runtime',
      pending_at: '2025-01-02T00:01:00.000Z',
      // The 4th event of the spec, the first of its lifecycle stream (the spec numbers revisions by index).
      revision: 3,
      state: JSON.parse(JSON.stringify(fold)),
    });
  });

  it('a usage window of a container the log knows nothing else of makes no row', () => {
    const rows = projectionSpec(lifecycleProjection)
      .when(window(OTHER, '2025-01-01T00:05:00.000Z', '2025-01-01T00:10:00.000Z'))
      .rows('SELECT * FROM lifecycle');
    expect(rows).toEqual([]);
  });
});
