import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTestRun, createTestContainer, describeWithDocker } from '../../../../test/support/docker.ts';
import { CgroupFs, parseNetDev, readNetDev } from '../../src/cgroups/index.ts';

const V2 = join(import.meta.dirname, '..', 'fixtures', 'cgroup-v2');
const A = 'aaaa1111'.repeat(8);
const B = 'bbbb2222'.repeat(8);
const ALICE_SLICE = 'ds01.slice/ds01-student.slice/ds01-student-alice.slice';

describe('cgroup v2 (a tree in the kernel documentation formats)', () => {
  const cgroups = new CgroupFs(V2);

  it('is told apart from v1 by the root, and finds containers of every form, not sessions', async () => {
    expect(cgroups.version).toBe(2);
    expect(await cgroups.containers()).toEqual([
      { containerId: B, path: `${ALICE_SLICE}/docker-${B}.scope` },
      { containerId: A, path: `system.slice/docker-${A}.scope` },
    ]);
  });

  it("reads a container's CPU, memory, IO and pids, summing devices", async () => {
    expect(await cgroups.read(`${ALICE_SLICE}/docker-${B}.scope`)).toEqual({
      cpuUsageNs: 8_000_000_000,
      memoryCurrentBytes: 2_097_152_000,
      memoryPeakBytes: 3_000_000_000,
      memoryLimitBytes: 34_359_738_368,
      ioReadBytes: 8_388_608 + 4096,
      ioWriteBytes: 12_582_912,
      pids: 9,
      aPid: 5201,
    });
    expect(await cgroups.read(`system.slice/docker-${A}.scope`)).toMatchObject({
      memoryLimitBytes: null,
      aPid: 4101,
    });
  });

  it('finds the ds01 user slices that hold containers', async () => {
    expect(cgroups.userSlicesOf(await cgroups.containers())).toEqual([
      { slice: 'ds01-student-alice.slice', path: ALICE_SLICE },
    ]);
    // With the cgroupfs driver a cgroup parent is a top-level folder.
    expect(cgroups.userSlicesOf([{ containerId: A, path: `ds01-student-bob.slice/${A}` }])).toEqual([
      { slice: 'ds01-student-bob.slice', path: 'ds01-student-bob.slice' },
    ]);
  });

  it('reads a user slice the same way, and a cgroup that is gone as null', async () => {
    expect(await cgroups.read(ALICE_SLICE)).toMatchObject({
      cpuUsageNs: 9_000_000_000,
      pids: 12,
      aPid: null,
    });
    expect(await cgroups.read('system.slice/docker-gone.scope')).toBeNull();
  });
});

describe('/proc/<pid>/net/dev', () => {
  it('sums every interface but loopback', () => {
    const text =
      'Inter-|   Receive                                                |  Transmit\n' +
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n' +
      '    lo:     500       5    0    0    0     0          0         0      500       5    0    0    0     0       0          0\n' +
      '  eth0: 1000000    800    0    0    0     0          0         0    20000     150    0    0    0     0       0          0\n';
    expect(parseNetDev(text)).toEqual({ rx: 1_000_000, tx: 20_000 });
  });
});

describeWithDocker('cgroup v1 of real containers (this machine)', (td) => {
  afterAll(() => cleanupTestRun(td));

  it("reads a running container's cgroup: its memory limit, CPU used and pids", async () => {
    const container = await createTestContainer(td, {
      start: true,
      hostConfig: { Memory: 64 * 1024 * 1024 },
      cmd: [
        'sh',
        '-c',
        'trap "exit 0" TERM; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; while true; do sleep 1; done',
      ],
    });
    const { Id, State } = await container.inspect();
    const cgroups = new CgroupFs();
    expect(cgroups.version).toBe(1);
    const found = (await cgroups.containers()).find((cgroup) => cgroup.containerId === Id);
    expect(found).toBeDefined();
    const reading = await cgroups.read(found!.path);
    expect(reading).toMatchObject({ memoryLimitBytes: 64 * 1024 * 1024, aPid: State.Pid });
    expect(reading!.cpuUsageNs).toBeGreaterThan(0);
    expect(reading!.memoryCurrentBytes).toBeGreaterThan(0);
    expect(reading!.pids).toBeGreaterThanOrEqual(1);
    // The test dockerd runs without a bridge: the container has loopback only.
    expect(await readNetDev(State.Pid)).toEqual({ rx: 0, tx: 0 });
    expect(readFileSync(`/proc/${State.Pid}/cgroup`, 'utf8')).toContain(found!.path);
    await container.remove({ force: true });
    expect(await cgroups.read(found!.path)).toBeNull();
  });
});
