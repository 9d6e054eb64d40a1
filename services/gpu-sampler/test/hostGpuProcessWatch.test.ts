import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BareMetalRules, eventCatalog, type GpuInventory, hostGpuProcessStream } from '@ds01/domain';
import { type RecordedEvent, SqliteEventStore } from '@ds01/event-store';
import { gpuProcessesFromXml, HostUserDirectory, parseSmiXml, runNvidiaSmi } from '@ds01/host';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FIXTURES } from '../../../packages/host/test/nvidia/captures.ts';
import { FakeNvidiaSmi } from '../../../packages/host/test/nvidia/fakeNvidiaSmi.ts';
import { cleanupTestRun, createTestContainer, describeWithDocker } from '../../../test/support/docker.ts';
import { ensureTestUser, type TestUser } from '../../../test/support/users.ts';
import { processExists, waitUntil } from '../../../test/support/waitUntil.ts';
import { HostGpuProcessWatch, type SamplerLogger } from '../src/index.ts';

const HOST = 'gpu01';
const quiet: SamplerLogger = { debug() {}, info() {}, warn() {}, error() {} };
const T0 = new Date('2026-12-03T12:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

/** The real T4 capture, with its two processes' pids (Xorg 675, python 5762) replaced by real ones. */
function serveT4With(fake: FakeNvidiaSmi, pids: { first: number; second: number }): void {
  const xml = readFileSync(join(FIXTURES, 'xml/tesla-t4-q-x-processes-1.xml'), 'utf8')
    .replace('<pid>675</pid>', `<pid>${pids.first}</pid>`)
    .replace('<pid>5762</pid>', `<pid>${pids.second}</pid>`);
  writeFileSync(join(fake.dir, 'q-x.xml'), xml);
  fake.script('[ "$*" = "-q -x" ] && exec cat "$(dirname "$0")/q-x.xml"; exit 2');
}

/** A process as ds01t-alice through runuser, that ignores SIGTERM (so only SIGKILL ends it): its pid. */
async function hostProcessOf(user: TestUser): Promise<{ runuser: ChildProcess; pid: number }> {
  const runuser = spawn('runuser', ['-u', user.name, '--', 'sh', '-c', 'trap "" TERM; sleep 300'], {
    stdio: 'ignore',
  });
  let pid = 0;
  await waitUntil(() => {
    const children = readFileSync(`/proc/${runuser.pid}/task/${runuser.pid}/children`, 'utf8').trim();
    pid = Number(children.split(' ')[0] || 0);
    return pid > 0;
  }, 'the process runuser started');
  return { runuser, pid };
}

describeWithDocker('host GPU processes (real container, real host process, fake nvidia-smi)', (td) => {
  let dir: string;
  let store: SqliteEventStore;
  let fake: FakeNvidiaSmi;
  let alice: TestUser;
  let containerId: string;
  let containerPid: number;
  let host: { runuser: ChildProcess; pid: number };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ds01-host-gpu-'));
    store = new SqliteEventStore({ path: join(dir, 'events.db'), codec: eventCatalog });
    fake = new FakeNvidiaSmi();
    alice = await ensureTestUser('alice');
    const container = await createTestContainer(td, { start: true });
    const inspect = await container.inspect();
    containerId = inspect.Id;
    containerPid = inspect.State.Pid;
    host = await hostProcessOf(alice);
    serveT4With(fake, { first: containerPid, second: host.pid });
  });
  afterAll(async () => {
    if (processExists(host.pid)) process.kill(host.pid, 'SIGKILL');
    host.runuser.kill('SIGKILL');
    await cleanupTestRun(td);
    await store.close();
    fake.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  async function gpuProcesses() {
    const xml = parseSmiXml(await runNvidiaSmi(['-q', '-x'], { binary: fake.binary, timeoutMs: 10_000 }));
    const inventory: GpuInventory = {
      source: 'nvidia-smi',
      gpus: xml.gpus.map((gpu) => ({
        index: gpu.position,
        uuid: gpu.uuid,
        name: gpu.name,
        memoryMiB: gpu.memoryTotalMiB,
        migEnabled: false,
        migSlots: [],
      })),
    };
    return gpuProcessesFromXml(inventory, xml);
  }

  function watch(rules: Partial<BareMetalRules> = {}): HostGpuProcessWatch {
    return new HostGpuProcessWatch({
      store,
      host: HOST,
      logger: quiet,
      graceMs: 30_000,
      rules: async () => ({
        defaultPolicy: 'stop',
        users: {},
        groups: {},
        exemptUsers: [],
        grants: [],
        ...rules,
      }),
      groupsOf: () => ['student'],
      containerOwner: (id) => (id === containerId ? 'ds01t-bob' : null),
      users: new HostUserDirectory(),
    });
  }

  async function recorded(): Promise<RecordedEvent<string, Record<string, unknown>>[]> {
    const events: RecordedEvent<string, Record<string, unknown>>[] = [];
    for await (const event of store.readStream(hostGpuProcessStream(HOST)))
      events.push(event as RecordedEvent<string, Record<string, unknown>>);
    return events;
  }

  it('attributes the container process to its owner and the host process to its user; stops it after warning', async () => {
    const processes = await gpuProcesses();
    expect(processes.map((process) => process.pid)).toEqual([containerPid, host.pid]);

    const owners = await watch().observe(processes, T0);
    expect(owners.get(containerPid)).toEqual({ containerId, user: 'ds01t-bob' });
    expect(owners.get(host.pid)).toEqual({ containerId: null, user: alice.name });
    let events = await recorded();
    // The container process is the container's: only the host process is on the host stream.
    expect(events.map((event) => event.type)).toEqual(['HostGpuProcessDetected', 'HostGpuProcessWarned']);
    expect(events[0]!.data).toMatchObject({
      pid: host.pid,
      uid: alice.uid,
      user: alice.name,
      command: 'sh -c trap "" TERM; sleep 300',
      gpuUuid: expect.stringMatching(/^GPU-/),
      slot: '0',
      usedMemoryMiB: 1005,
      policy: 'stop',
      policySource: 'default',
    });
    expect(events[1]!.data).toMatchObject({ stopAt: at(30).toISOString() });

    // Within the grace: nothing. After it: SIGTERM, sent once (the process ignores it).
    await watch().observe(processes, at(10));
    await watch().observe(processes, at(30));
    events = await recorded();
    expect(events.slice(2).map((event) => [event.type, event.data.signal, event.data.outcome])).toEqual([
      ['HostGpuProcessStopDecided', 'SIGTERM', undefined],
      ['HostGpuProcessSignalled', 'SIGTERM', 'sent'],
    ]);
    expect(processExists(host.pid)).toBe(true);

    // A grace after SIGTERM: SIGKILL, and the process is gone. A second sampler (a restart) sends nothing again.
    await watch().observe(processes, at(61));
    await waitUntil(() => !processExists(host.pid), 'the host process to end on SIGKILL');
    await watch().observe(processes.slice(0, 1), at(62));
    events = await recorded();
    expect(
      events.slice(4).map((event) => [event.type, event.data.signal ?? null, event.data.outcome ?? null]),
    ).toEqual([
      ['HostGpuProcessStopDecided', 'SIGKILL', null],
      ['HostGpuProcessSignalled', 'SIGKILL', 'sent'],
      ['HostGpuProcessEnded', null, null],
    ]);
  });

  it('reports a process whose /proc entry cannot be read as unattributed', async () => {
    const [first] = await gpuProcesses();
    const gone = { ...first!, pid: 2 ** 22 + 17 };
    await watch({ defaultPolicy: 'allow' }).observe([gone], at(100));
    const events = await recorded();
    expect(events.at(-1)).toMatchObject({
      type: 'UnattributedGpuProcess',
      data: { pid: gone.pid, reason: expect.stringMatching(/cannot be read/) },
    });
  });
});
