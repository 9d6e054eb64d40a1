import {
  GpuAllocated,
  GpuGrantBound,
  GpuHoldEnded,
  GpuHoldStarted,
  GpuPoolInventoryRecorded,
  GpuReconciliationProblem,
  GpuReleased,
} from '@ds01/domain';
import { describe, expect, it } from 'vitest';
import { projectionSpec } from '../runner/projectionSpec.ts';
import { allocationProjection } from './allocationProjection.ts';

const stream = 'gpu-pool-gpu01';
const container = 'c'.repeat(64);
const on = <E extends { type: string; data: unknown }>(event: E) => ({ ...event, stream });

const inventory = on(
  GpuPoolInventoryRecorded({
    slots: [
      { slot: '0', gpuIndex: 0, profile: 'full', gpuEquivalents: 1, deviceId: 'GPU-0' },
      { slot: '1.0', gpuIndex: 1, profile: '3g.40gb', gpuEquivalents: 3 / 7, deviceId: 'MIG-10' },
    ],
    at: '2026-03-01T08:00:00.000Z',
  }),
);
const granted = on(
  GpuAllocated({
    requestId: 'r1',
    slot: '1.0',
    gpuIndex: 1,
    profile: '3g.40gb',
    gpuEquivalents: 3 / 7,
    deviceId: 'MIG-10',
    user: 'alice',
    containerId: container,
    observation: 'observed',
    // Another spelling of an instant: the projection stores toISOString's, so text order is time order.
    since: '2026-03-01T10:00:00+01:00',
  }),
);

describe('allocation projection', () => {
  it('lists the pool of each host and who holds which slot', () => {
    const rows = projectionSpec(allocationProjection)
      .given(inventory)
      .when(granted)
      .rows(
        `SELECT p.host, p.slot, h.user, h.container_id, h.since FROM gpu_pool_slots p
           LEFT JOIN gpu_holdings h USING (host, slot) ORDER BY p.slot`,
      );
    expect(rows).toEqual([
      { host: 'gpu01', slot: '0', user: null, container_id: null, since: null },
      {
        host: 'gpu01',
        slot: '1.0',
        user: 'alice',
        container_id: container,
        since: '2026-03-01T09:00:00.000Z',
      },
    ]);
  });

  it('shows a hold while the container is stopped, and clears it when it starts again', () => {
    const hold = on(
      GpuHoldStarted({
        containerId: container,
        user: 'alice',
        slots: ['1.0'],
        stoppedAt: '2026-03-01T12:00:00.000Z',
        expiresAt: '2026-03-01T12:15:00.000Z',
      }),
    );
    const sql = 'SELECT slot, hold_stopped_at, hold_expires_at FROM gpu_holdings';
    expect(projectionSpec(allocationProjection).given(inventory, granted).when(hold).rows(sql)).toEqual([
      {
        slot: '1.0',
        hold_stopped_at: '2026-03-01T12:00:00.000Z',
        hold_expires_at: '2026-03-01T12:15:00.000Z',
      },
    ]);
    const ended = on(GpuHoldEnded({ containerId: container, at: '2026-03-01T12:05:00.000Z' }));
    expect(
      projectionSpec(allocationProjection).given(inventory, granted, hold).when(ended).rows(sql),
    ).toEqual([{ slot: '1.0', hold_stopped_at: null, hold_expires_at: null }]);
  });

  it('frees the slot on release and closes its history row with when and why', () => {
    const released = on(
      GpuReleased({
        slot: '1.0',
        user: 'alice',
        containerId: container,
        reason: 'hold_expired',
        at: '2026-03-01T12:15:00.000Z',
      }),
    );
    const spec = projectionSpec(allocationProjection).given(inventory, granted).when(released);
    expect(spec.rows('SELECT * FROM gpu_holdings')).toEqual([]);
    expect(spec.rows('SELECT slot, user, since, until, release_reason FROM gpu_holding_history')).toEqual([
      {
        slot: '1.0',
        user: 'alice',
        since: '2026-03-01T09:00:00.000Z',
        until: '2026-03-01T12:15:00.000Z',
        release_reason: 'hold_expired',
      },
    ]);
  });

  it('replaces the pool when its inventory is recorded again', () => {
    const reconfigured = on(
      GpuPoolInventoryRecorded({
        slots: [{ slot: '0', gpuIndex: 0, profile: 'full', gpuEquivalents: 1, deviceId: 'GPU-0' }],
        at: '2026-03-02T08:00:00.000Z',
      }),
    );
    expect(
      projectionSpec(allocationProjection)
        .given(inventory)
        .when(reconfigured)
        .rows('SELECT slot FROM gpu_pool_slots'),
    ).toEqual([{ slot: '0' }]);
  });

  it('keeps the switch-over problems for a person to look at', () => {
    const problem = on(
      GpuReconciliationProblem({
        containerId: container,
        containerName: 'train._.1001',
        user: 'alice',
        problem: 'unknown_device',
        deviceId: 'MIG-gone',
        slot: null,
        detail: 'no such device',
        at: '2026-03-01T08:00:00.000Z',
      }),
    );
    expect(
      projectionSpec(allocationProjection)
        .when(problem)
        .rows('SELECT host, problem, device_id FROM gpu_reconciliation_problems'),
    ).toEqual([{ host: 'gpu01', problem: 'unknown_device', device_id: 'MIG-gone' }]);
  });

  it('ignores allocation events outside a pool stream', () => {
    expect(
      projectionSpec(allocationProjection)
        .when({ ...granted, stream: 'elsewhere' })
        .rows('SELECT * FROM gpu_holdings'),
    ).toEqual([]);
  });

  it('shows a grant for a create without a container until GpuGrantBound names it', () => {
    const pending = on(
      GpuAllocated({
        ...granted.data,
        requestId: 'r2',
        containerId: null,
        pendingUntil: '2026-03-01T09:02:00.000Z',
      }),
    );
    const bound = on(
      GpuGrantBound({
        requestId: 'r2',
        containerId: container,
        slots: ['1.0'],
        at: '2026-03-01T09:00:01.000Z',
      }),
    );
    const spec = () => projectionSpec(allocationProjection).given(inventory, pending);
    expect(spec().when().rows('SELECT container_id FROM gpu_holdings')).toEqual([{ container_id: null }]);
    expect(spec().when(bound).rows('SELECT container_id, request_id FROM gpu_holdings')).toEqual([
      { container_id: container, request_id: 'r2' },
    ]);
    expect(spec().when(bound).rows('SELECT container_id FROM gpu_holding_history')).toEqual([
      { container_id: container },
    ]);
  });
});
