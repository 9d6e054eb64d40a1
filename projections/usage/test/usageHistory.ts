import {
  GpuAllocated,
  GpuAllocationDenied,
  GpuReleased,
  GpuUsageWindowRecorded,
  gpuPoolStream,
  gpuUsageStream,
  UserRegistered,
} from '@ds01/domain';

export const HOST = 'h1';
export const CONTAINER_A = 'a'.repeat(64);
export const CONTAINER_B = 'b'.repeat(64);

export function granted(
  user: string,
  slot: string,
  profile: string,
  eq: number,
  since: string,
  containerId: string,
) {
  return GpuAllocated({
    requestId: `r-${user}-${slot}`,
    slot,
    gpuIndex: Number(slot.split('.')[0]),
    profile,
    gpuEquivalents: eq,
    deviceId: `dev-${slot}`,
    user,
    containerId,
    observation: 'observed',
    since,
  });
}

export function window(
  slot: string,
  start: string,
  holder: { user: string | null; containerId: string | null },
  readings: {
    sm?: number;
    gr?: number;
    util?: number;
    energy?: number;
    migProfile?: string | null;
  },
) {
  const startMs = Date.parse(start);
  return GpuUsageWindowRecorded({
    host: HOST,
    windowStart: start,
    windowEnd: new Date(startMs + 300_000).toISOString(),
    device: {
      gpuIndex: Number(slot.split('.')[0]),
      slot,
      uuid: `GPU-${slot}`,
      migProfile: readings.migProfile ?? null,
    },
    holder,
    samples: 10,
    gpuUtilization: readings.util === undefined ? null : { mean: readings.util, max: readings.util },
    grEngineActive: readings.gr === undefined ? null : { mean: readings.gr, max: readings.gr },
    smActive: readings.sm === undefined ? null : { mean: readings.sm },
    dramActive: null,
    memoryUsedMaxBytes: null,
    powerMeanWatts: null,
    energyJoules: readings.energy ?? null,
    processes: [],
  });
}

/**
 * A small history whose answers are worked out by hand below:
 *  alice (students) holds GPU 0 (full) 2026-03-01 22:00 → 03-02 02:00: 2 h on each day.
 *  bob (staff) holds MIG 2.0 (3g.40gb = 3/7) from 03-02 10:00, still held at 17:00: 7 h × 3/7 = 3 GPU-h.
 *  alice's windows: SM 50 % (150 GPU-s used), SM 1 % (3 GPU-s used, 300 GPU-s idle); 90 kJ + 30 kJ.
 *  bob's windows: GR engine 80 % (300 × 3/7 × 0.8 ≈ 102.86 GPU-s used), then no reading (128.57 unknown); 36 kJ.
 *  GPU 1, free: 18 kJ. Grid: 400 g/kWh until 03-01, 200 g/kWh from 03-02.
 */
export const history = [
  { stream: 'user-alice', event: UserRegistered({ user: 'alice', uid: 1001, group: 'students' }) },
  { stream: 'user-bob', event: UserRegistered({ user: 'bob', uid: 1002, group: 'staff' }) },
  {
    stream: gpuPoolStream(HOST),
    event: granted('alice', '0', 'full', 1, '2026-03-01T22:00:00.000Z', CONTAINER_A),
  },
  {
    stream: gpuUsageStream(HOST, '2026-03-01T22:00:00.000Z'),
    event: window(
      '0',
      '2026-03-01T22:00:00.000Z',
      { user: 'alice', containerId: CONTAINER_A },
      { sm: 0.5, util: 100, energy: 90_000 },
    ),
  },
  {
    stream: gpuUsageStream(HOST, '2026-03-01T22:05:00.000Z'),
    event: window(
      '0',
      '2026-03-01T22:05:00.000Z',
      { user: 'alice', containerId: CONTAINER_A },
      { sm: 0.01, energy: 30_000 },
    ),
  },
  {
    stream: gpuPoolStream(HOST),
    event: GpuReleased({
      slot: '0',
      user: 'alice',
      containerId: CONTAINER_A,
      reason: 'requested',
      at: '2026-03-02T02:00:00.000Z',
    }),
  },
  {
    stream: gpuPoolStream(HOST),
    event: granted('bob', '2.0', '3g.40gb', 3 / 7, '2026-03-02T10:00:00.000Z', CONTAINER_B),
  },
  {
    stream: gpuUsageStream(HOST, '2026-03-02T10:00:00.000Z'),
    event: window(
      '2.0',
      '2026-03-02T10:00:00.000Z',
      { user: 'bob', containerId: CONTAINER_B },
      { gr: 0.8, energy: 36_000, migProfile: '3g.40gb' },
    ),
  },
  {
    stream: gpuUsageStream(HOST, '2026-03-02T10:05:00.000Z'),
    event: window(
      '2.0',
      '2026-03-02T10:05:00.000Z',
      { user: 'bob', containerId: CONTAINER_B },
      { migProfile: '3g.40gb' },
    ),
  },
  {
    stream: gpuUsageStream(HOST, '2026-03-02T10:00:00.000Z'),
    event: window(
      '1',
      '2026-03-02T10:00:00.000Z',
      { user: null, containerId: null },
      { util: 0, energy: 18_000 },
    ),
  },
  {
    stream: gpuPoolStream(HOST),
    event: GpuAllocationDenied({
      requestId: 'r-denied',
      user: 'bob',
      containerId: null,
      request: { count: 2, profile: null },
      reason: { code: 'over_quota', held: 0.43, requested: 1, limit: 1 },
      message: 'over quota',
      at: '2026-03-02T11:00:00.000Z',
    }),
  },
];
