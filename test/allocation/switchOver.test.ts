import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixedInventory, GpuAllocator } from '@ds01/allocation';
import { switchOverFromDs01Infra } from '@ds01/allocator';
import { eventCatalog, type GpuPoolEvent } from '@ds01/domain';
import { SqliteEventStore } from '@ds01/event-store';
import { connectDocker } from '@ds01/host';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mixedPool, slotOf, studentLimits } from '../../packages/domain/test/allocation/pools.ts';
import {
  cleanupTestRun,
  createTestContainer,
  describeWithDocker,
  runFilter,
  uniqueName,
} from '../support/docker.ts';
import { ensureTestUser, type TestUser } from '../support/users.ts';

/**
 * Switch-over on a real dockerd: containers made as ds01-infra makes them (its labels, DeviceRequests
 * naming MIG/GPU UUIDs, `<name>._.<uid>` names), created but not started (a holder need not run), one
 * started and stopped so it is on hold. The pool must record what each holds for its owner, once.
 */
describeWithDocker('switch-over from ds01-infra', (td) => {
  const folder = mkdtempSync(join(tmpdir(), 'ds01-switch-over-'));
  let store: SqliteEventStore;
  let allocator: GpuAllocator;
  let owner: TestUser;
  const ids: Record<string, string> = {};
  const mig10 = slotOf(mixedPool, '1.0').deviceId;
  const gpu2 = slotOf(mixedPool, '2').deviceId;
  const gpu3 = slotOf(mixedPool, '3').deviceId;
  const nvidia = (deviceIds: string[]) => ({
    DeviceRequests: [{ Driver: 'nvidia', Count: 0, DeviceIDs: deviceIds, Capabilities: [['gpu']] }],
  });

  beforeAll(async () => {
    owner = await ensureTestUser('switch');
    store = new SqliteEventStore({ path: join(folder, 'events.db'), codec: eventCatalog });
    allocator = new GpuAllocator({
      store,
      host: 'switch',
      limits: { limitsFor: () => studentLimits },
      inventory: fixedInventory(mixedPool),
      users: { statusOf: async () => 'active' },
    });
    const make = async (key: string, spec: Parameters<typeof createTestContainer>[1]) => {
      ids[key] = (await createTestContainer(td, spec)).id;
    };
    // mlc-create-wrapper: a single MIG slot by --gpus device=<MIG uuid>, owner by name `._.<uid>`.
    await make('mig', {
      name: `${uniqueName(td, 'train')}._.${owner.uid}`,
      labels: {
        'ds01.managed': 'true',
        'ds01.gpu.allocated': '1.0',
        'ds01.gpu.uuids': mig10,
        'ds01.gpu.allocated_at': '2026-02-01T09:00:00Z',
      },
      hostConfig: nvidia([mig10]),
    });
    // A whole GPU by DeviceRequest, owner by label.
    await make('whole', {
      labels: { 'ds01.user': 'ana', 'ds01.managed': 'true', 'ds01.gpu.allocated_at': '2026-02-01T10:00:00Z' },
      hostConfig: nvidia([gpu2]),
    });
    // docker-wrapper's external allocation: label ds01.gpu_slot is the GPU UUID.
    await make('wrapper', {
      labels: {
        'ds01.user': 'bob',
        'ds01.gpu_slot': gpu3,
        'ds01.gpu_ephemeral': 'true',
        'ds01.gpu.allocated_at': '2026-02-01T11:00:00Z',
      },
    });
    // Claims 1.0 again, granted later: ds01-infra's race let this happen.
    await make('twice', {
      labels: {
        'ds01.user': 'carol',
        'ds01.gpu.uuids': mig10,
        'ds01.gpu.allocated_at': '2026-02-02T09:00:00Z',
      },
    });
    // A device no slot of the pool has (MIG layout changed since), and no owner at all.
    await make('stale', { labels: { 'ds01.gpu.uuids': 'MIG-99999999-0000-0000-0000-000000000000' } });
    // No GPU: not part of the pool.
    await make('cpu', { labels: { 'ds01.user': 'ana', 'ds01.managed': 'true' } });
    // Stopped under ds01-infra, still holding its slot by label: on hold from when it stopped.
    const stopped = await createTestContainer(td, {
      labels: {
        'aime.mlc.USER': 'dora',
        'ds01.gpu.allocated': '0.2',
        'ds01.gpu.allocated_at': '2026-02-01T08:00:00Z',
      },
      start: true,
    });
    await stopped.stop({ t: 1 });
    ids['stopped'] = stopped.id;
  });

  afterAll(async () => {
    await cleanupTestRun(td);
    await store?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  let events: GpuPoolEvent[];

  it('records what every container holds for its owner, the stopped one on hold', {
    timeout: 60_000,
  }, async () => {
    const result = await switchOverFromDs01Infra({
      connection: connectDocker(td.host),
      allocator,
      limits: { limitsFor: () => studentLimits },
      actor: { kind: 'service', name: 'switch-over-test' },
      filters: runFilter(td),
    });
    events = result.events;
    expect(result).toMatchObject({ ran: true, containersWithGpus: 6 });
    const grants = events.flatMap((e) => (e.type === 'GpuAllocated' ? [e.data] : []));
    expect(grants.map((g) => [g.slot, g.user, g.containerId, g.observation, g.since])).toEqual([
      ['0.2', 'dora', ids['stopped'], 'reconciled', '2026-02-01T08:00:00.000Z'],
      ['1.0', owner.name, ids['mig'], 'reconciled', '2026-02-01T09:00:00.000Z'],
      ['2', 'ana', ids['whole'], 'reconciled', '2026-02-01T10:00:00.000Z'],
      ['3', 'bob', ids['wrapper'], 'reconciled', '2026-02-01T11:00:00.000Z'],
    ]);
    const hold = events.find((e) => e.type === 'GpuHoldStarted');
    expect(hold?.data).toMatchObject({ containerId: ids['stopped'], user: 'dora', slots: ['0.2'] });
    const stoppedAt = Date.parse((hold!.data as { stoppedAt: string }).stoppedAt);
    expect(Date.now() - stoppedAt).toBeLessThan(10 * 60_000);
  });

  it('reports what a person must look at: a slot granted twice, a device the pool lacks, no owner', () => {
    const problems = events.flatMap((e) => (e.type === 'GpuReconciliationProblem' ? [e.data] : []));
    expect(problems.map((p) => [p.problem, p.containerId, p.slot, p.deviceId])).toEqual([
      ['slot_held_by_other_container', ids['twice'], '1.0', mig10],
      ['unknown_owner', ids['stale'], null, null],
      ['unknown_device', ids['stale'], null, 'MIG-99999999-0000-0000-0000-000000000000'],
    ]);
    expect(events.at(-1)).toMatchObject({
      type: 'GpuPoolReconciled',
      data: { source: 'ds01-infra', containersSeen: 6, slotsRecorded: 4, problems: 3 },
    });
  });

  it('grants nothing held twice afterwards, and takes over only once', { timeout: 60_000 }, async () => {
    const actor = { kind: 'user' as const, name: 'erin' };
    const mig = await allocator.allocate(
      { user: 'erin', request: { count: 1, profile: '3g.40gb' }, containerId: null },
      actor,
    );
    expect(mig).toMatchObject({ granted: true, slots: [{ slot: '0.0' }] });
    const whole = await allocator.allocate(
      { user: 'erin', request: { count: 1, profile: 'full' }, containerId: null },
      actor,
    );
    expect(whole).toMatchObject({ granted: false, reason: { code: 'no_free_slot', free: 0 } });
    const again = await switchOverFromDs01Infra({
      connection: connectDocker(td.host),
      allocator,
      limits: { limitsFor: () => studentLimits },
      actor: { kind: 'service', name: 'switch-over-test' },
      filters: runFilter(td),
    });
    expect(again).toEqual({ ran: false, containersWithGpus: 0, events: [] });
  });
});
