import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerUsageStream, eventCatalog, userSliceUsageStream } from '@ds01/domain';
import { type RecordedEvent, SqliteEventStore } from '@ds01/event-store';
import { CgroupFs } from '@ds01/host';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanupTestRun, createTestContainer, describeWithDocker } from '../../../test/support/docker.ts';
import { waitUntil } from '../../../test/support/waitUntil.ts';
import { CgroupSampler, type CgroupSamplerLogger } from '../src/index.ts';

const HOST = 'gpu01';
const V2_FIXTURE = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'packages',
  'host',
  'test',
  'fixtures',
  'cgroup-v2',
);
const B = 'bbbb2222'.repeat(8);
const B_DIR = `ds01.slice/ds01-student.slice/ds01-student-alice.slice/docker-${B}.scope`;
const quiet: CgroupSamplerLogger = { debug() {}, info() {}, warn() {}, error() {} };

async function windowsIn(store: SqliteEventStore, stream: string): Promise<RecordedEvent[]> {
  const events: RecordedEvent[] = [];
  for await (const event of store.readStream(stream)) events.push(event);
  return events;
}

describe('cgroup sampler on a cgroup v2 tree (real files, controlled clock)', () => {
  let dir: string;
  let root: string;
  let store: SqliteEventStore;
  let clock: Date;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ds01-cgroup-sampler-'));
    root = join(dir, 'cgroup');
    cpSync(V2_FIXTURE, root, { recursive: true });
    store = new SqliteEventStore({ path: join(dir, 'events.db'), codec: eventCatalog });
    clock = new Date('2026-12-03T12:00:05.000Z');
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function sampler(): CgroupSampler {
    return new CgroupSampler({
      store,
      cgroups: new CgroupFs(root),
      host: HOST,
      logger: quiet,
      intervalMs: 15_000,
      windowMs: 60_000,
      ownerOf: (id) => (id === B ? 'alice' : null),
      clock: () => clock,
      procRoot: join(dir, 'no-proc'),
    });
  }

  it('appends one window per container when the window closes, once across a restart', async () => {
    const cgroups = sampler();
    await cgroups.sampleOnce();
    // 30 s later the container has used 15 s more CPU and written 1 MiB more.
    writeFileSync(
      join(root, B_DIR, 'cpu.stat'),
      'usage_usec 23000000\nuser_usec 20000000\nsystem_usec 3000000\n',
    );
    writeFileSync(
      join(root, B_DIR, 'io.stat'),
      '259:0 rbytes=8388608 wbytes=13631488 rios=2048 wios=3100 dbytes=0 dios=0\n8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n',
    );
    clock = new Date('2026-12-03T12:00:35.000Z');
    await cgroups.sampleOnce();
    clock = new Date('2026-12-03T12:01:05.000Z');
    await cgroups.sampleOnce();

    const stream = containerUsageStream(HOST, clock);
    const windows = await windowsIn(store, stream);
    expect(windows.map((event) => event.data)).toEqual([
      expect.objectContaining({ containerId: 'aaaa1111'.repeat(8), user: null, cpuSeconds: 0 }),
      {
        host: HOST,
        windowStart: '2026-12-03T12:00:00.000Z',
        windowEnd: '2026-12-03T12:01:00.000Z',
        containerId: B,
        user: 'alice',
        samples: 2,
        cpuSeconds: 15,
        cpuMeanCores: 0.5,
        cpuMaxCores: 0.5,
        memoryMaxBytes: 2_097_152_000,
        memoryLimitBytes: 34_359_738_368,
        ioReadBytes: 0,
        ioWriteBytes: 1_048_576,
        pidsMax: 9,
        // No /proc of these pids here: the network is unknown, never "no traffic".
        networkRxBytes: null,
        networkTxBytes: null,
      },
    ]);
    // The user slice holding container B is windowed too.
    const slices = await windowsIn(store, userSliceUsageStream(HOST, clock));
    expect(slices.map((event) => event.data)).toEqual([
      expect.objectContaining({
        slice: 'ds01-student-alice.slice',
        path: 'ds01.slice/ds01-student.slice/ds01-student-alice.slice',
        samples: 2,
        cpuSeconds: 0,
        memoryMaxBytes: 2_147_483_648,
        memoryLimitBytes: null,
        pidsMax: 12,
      }),
    ]);
    await cgroups.stop();
    expect(await windowsIn(store, stream)).toHaveLength(4);
    const again = sampler();
    await again.sampleOnce();
    await again.stop();
    expect(await windowsIn(store, stream)).toHaveLength(4);
  });
});

describeWithDocker('cgroup sampler on cgroup v1 (real containers of the test dockerd)', (td) => {
  let dir: string;
  let store: SqliteEventStore;
  afterAll(async () => {
    await cleanupTestRun(td);
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("records a busy container's CPU and its memory limit, and an idle one's nothing", async () => {
    dir = mkdtempSync(join(tmpdir(), 'ds01-cgroup-v1-'));
    store = new SqliteEventStore({ path: join(dir, 'events.db'), codec: eventCatalog });
    const busy = await createTestContainer(td, {
      start: true,
      hostConfig: { Memory: 32 * 1024 * 1024 },
      cmd: ['sh', '-c', 'trap "exit 0" TERM; while true; do :; done'],
    });
    const idle = await createTestContainer(td, { start: true });
    const ids = [(await busy.inspect()).Id, (await idle.inspect()).Id];
    // Time is the sampler's clock (windows), CPU the kernel's: real seconds pass between the two samples.
    let clock = new Date('2026-12-03T12:00:01.000Z');
    const cgroups = new CgroupSampler({
      store,
      cgroups: new CgroupFs(),
      host: HOST,
      logger: quiet,
      intervalMs: 15_000,
      windowMs: 60_000,
      ownerOf: () => 'ds01t-alice',
      clock: () => clock,
    });
    await cgroups.sampleOnce();
    // Wait for CPU used, not for time (the machine is shared): until the busy one has used 0.2 s more.
    const fs = new CgroupFs();
    const busyPath = (await fs.containers()).find((cgroup) => cgroup.containerId === ids[0])!.path;
    const cpuOf = async () => (await fs.read(busyPath))!.cpuUsageNs / 1e9;
    const before = await cpuOf();
    await waitUntil(
      async () => (await cpuOf()) - before > 0.2,
      'the busy container to use 0.2 s of CPU',
      30_000,
    );
    clock = new Date('2026-12-03T12:00:02.000Z');
    await cgroups.sampleOnce();
    await cgroups.stop();
    const windows = (await windowsIn(store, containerUsageStream(HOST, clock)))
      .map(
        (event) => event.data as { containerId: string; cpuSeconds: number; memoryLimitBytes: number | null },
      )
      .filter((window) => ids.includes(window.containerId));
    const [ofBusy, ofIdle] = ids.map((id) => windows.find((window) => window.containerId === id)!);
    expect(ofBusy).toMatchObject({ memoryLimitBytes: 32 * 1024 * 1024, networkRxBytes: 0 });
    expect(ofBusy!.cpuSeconds).toBeGreaterThan(0.2);
    expect(ofIdle!.cpuSeconds).toBeLessThan(ofBusy!.cpuSeconds / 4);
    expect(ofIdle!.memoryLimitBytes).toBeNull();
  });
});
