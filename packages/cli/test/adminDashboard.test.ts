import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ContainerCreateAuthorized,
  ContainerCreated,
  ContainerIdle,
  ContainerStarted,
  ContainerStopped,
  eventCatalog,
  GpuAllocated,
  GpuHoldStarted,
  GpuPoolInventoryRecorded,
  GpuUsageWindowRecorded,
  gpuUsageStream,
  HostGpuProcessDetected,
  HostGpuProcessEnded,
  hostGpuProcessStream,
  RetirementScheduled,
  UnattributedGpuProcess,
} from '@ds01/domain';
import { type NewEvent, SqliteEventStore } from '@ds01/event-store';
import { describe, expect, it } from 'vitest';
import { newDataDir, runDs01 } from './support/ds01Cli.ts';

// `ds01 admin dashboard` (issue #12 item 5): real CLI processes on a log filled with real catalog
// events, the read models caught up by the command itself.
const HOST = hostname(); // the CLI's host when ds01.yaml names none
const NOW = Date.now();
const iso = (offsetMs: number) => new Date(NOW + offsetMs).toISOString();
const MIN = 60_000;
const ALICE_BOX = 'a'.repeat(64);
const BOB_BOX = 'b'.repeat(64);

function event(e: { type: string; data: unknown }, occurredAt = iso(-30 * MIN)): NewEvent {
  return {
    ...e,
    metadata: {
      eventId: randomUUID(),
      occurredAt,
      actor: { kind: 'service', name: 'test' },
      host: HOST,
      correlationId: randomUUID(),
      causationId: null,
    },
  };
}

function container(id: string, user: string, name: string): NewEvent[] {
  const ref = { containerId: id, name, observation: 'observed' as const, dockerEvent: null };
  return [
    event(ContainerCreated({ ...ref, image: 'busybox', labels: { 'ds01.user': user } }), iso(-60 * MIN)),
    event(
      ContainerCreateAuthorized({
        containerId: id,
        user,
        socket: { kind: 'user', user, path: `/run/ds01/users/${user}/docker.sock` },
        interface: 'docker',
        name,
        rewritten: [],
        devices: [],
      }),
      iso(-60 * MIN),
    ),
    event(ContainerStarted({ ...ref, startedAt: iso(-59 * MIN) }), iso(-59 * MIN)),
  ];
}

function usageWindow(slot: string, gpuIndex: number, migProfile: string | null, utilisation: number | null) {
  return GpuUsageWindowRecorded({
    host: HOST,
    windowStart: iso(-6 * MIN),
    windowEnd: iso(-1 * MIN),
    device: { gpuIndex, slot, uuid: `GPU-${slot}`, migProfile },
    holder: { containerId: null, user: null },
    samples: 20,
    gpuUtilization: utilisation === null ? null : { mean: utilisation, max: 80 },
    grEngineActive: null,
    smActive: null,
    dramActive: null,
    memoryUsedMaxBytes: null,
    powerMeanWatts: null,
    energyJoules: null,
    processes: [],
  });
}

const grant = (slot: string, gpuIndex: number, profile: string, eq: number, user: string, id: string) =>
  GpuAllocated({
    requestId: randomUUID(),
    slot,
    gpuIndex,
    profile,
    gpuEquivalents: eq,
    deviceId: `GPU-${slot}`,
    user,
    containerId: id,
    observation: 'observed',
    since: iso(-59 * MIN),
  });

const process = (pid: number, user: string, command: string) => ({
  pid,
  processKey: `${pid}:123456`,
  uid: 3000,
  user,
  command,
  gpuUuid: 'GPU-1',
  slot: '1.1',
  usedMemoryMiB: 2048,
  policy: 'warn' as const,
  policySource: 'default' as const,
  at: iso(-10 * MIN),
});

/** A lab of two users on one host: alice runs a GPU container, bob's stopped one keeps its MIG slot. */
async function labDataDir(): Promise<string> {
  const dataDir = newDataDir();
  const store = new SqliteEventStore({ path: join(dataDir, 'events.db'), codec: eventCatalog });
  const pool = `gpu-pool-${HOST}`;
  await store.append(pool, [
    event(
      GpuPoolInventoryRecorded({
        slots: [
          { slot: '0', gpuIndex: 0, profile: 'full', gpuEquivalents: 1, deviceId: 'GPU-0' },
          { slot: '1.0', gpuIndex: 1, profile: '3g.40gb', gpuEquivalents: 3 / 7, deviceId: 'GPU-1.0' },
          { slot: '1.1', gpuIndex: 1, profile: '3g.40gb', gpuEquivalents: 3 / 7, deviceId: 'GPU-1.1' },
        ],
        at: iso(-120 * MIN),
      }),
      iso(-120 * MIN),
    ),
  ]);
  await store.append(`container-${ALICE_BOX}`, [
    ...container(ALICE_BOX, 'alice', 'thesis._.3001'),
    event(ContainerIdle({ containerId: ALICE_BOX, idleSince: iso(-20 * MIN) })),
  ]);
  await store.append(`container-${BOB_BOX}`, [
    ...container(BOB_BOX, 'bob', 'notebook._.3002'),
    event(
      ContainerStopped({
        containerId: BOB_BOX,
        name: 'notebook._.3002',
        observation: 'observed',
        dockerEvent: null,
        finishedAt: iso(-5 * MIN),
        exitCode: 0,
        oomKilled: false,
      }),
      iso(-5 * MIN),
    ),
  ]);
  await store.append(pool, [
    event(grant('0', 0, 'full', 1, 'alice', ALICE_BOX)),
    event(grant('1.0', 1, '3g.40gb', 3 / 7, 'bob', BOB_BOX)),
    event(
      GpuHoldStarted({
        containerId: BOB_BOX,
        user: 'bob',
        slots: ['1.0'],
        stoppedAt: iso(-5 * MIN),
        expiresAt: iso(10 * MIN),
      }),
    ),
  ]);
  // Slot 0 measured; slot 1.0 a MIG slot without dcgm-exporter (unknown); slot 1.1 no window at all.
  await store.append(gpuUsageStream(HOST, new Date(NOW - 6 * MIN)), [
    event(usageWindow('0', 0, null, 35)),
    event(usageWindow('1.0', 1, '3g.40gb', null)),
  ]);
  await store.append(`lifecycle-${ALICE_BOX}`, [
    event(
      RetirementScheduled({
        retirementId: 'r1',
        containerId: ALICE_BOX,
        user: 'alice',
        containerName: 'thesis._.3001',
        reason: 'idle',
        action: 'stop',
        dueAt: iso(25 * MIN),
        at: iso(25 * MIN),
        graceSeconds: 60,
        warn: true,
        detail: 'idle since 20 min',
      }),
    ),
  ]);
  const longCommand = `python train.py ${'--flag '.repeat(30)}`;
  await store.append(hostGpuProcessStream(HOST), [
    event(HostGpuProcessDetected(process(4242, 'carol', longCommand))),
    event(HostGpuProcessDetected(process(4444, 'dave', 'ended.py'))),
    event(HostGpuProcessEnded({ pid: 4444, processKey: '4444:123456', user: 'dave', at: iso(-2 * MIN) })),
    event(
      UnattributedGpuProcess({
        pid: 4343,
        processKey: '4343:99',
        uid: null,
        command: 'mystery',
        gpuUuid: 'GPU-0',
        slot: '0',
        usedMemoryMiB: null,
        reason: '/proc unreadable',
        at: iso(-3 * MIN),
      }),
    ),
  ]);
  await store.close();
  return dataDir;
}

/** The lines of one section: after its title, up to the blank line. */
function section(stdout: string, title: string): string[] {
  const lines = stdout.split('\n');
  const start = lines.indexOf(title);
  expect(start, `section ${title} in:\n${stdout}`).toBeGreaterThanOrEqual(0);
  const end = lines.indexOf('', start);
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

function expectWithin80(stdout: string): void {
  for (const line of stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
}

const TITLES = [
  'GPUS AND MIG SLOTS',
  'USERS AND CONTAINERS',
  'IDLE CONTAINERS',
  'UPCOMING RETIREMENTS',
  'UNMANAGED CONTAINERS',
  'HOST GPU PROCESSES',
];

describe('ds01 admin dashboard', () => {
  it('shows every slot with holder and utilisation, users with limits, retirements and host processes', async () => {
    const dataDir = await labDataDir();
    const plain = await runDs01(dataDir, ['admin', 'dashboard']);
    expect(plain.code, plain.stderr).toBe(0);
    expectWithin80(plain.stdout);

    const gpus = section(plain.stdout, 'GPUS AND MIG SLOTS');
    expect(gpus[1]).toMatch(/^ {2}0\s+full\s+alice \(thesis\)\s+35% \/ 80%$/);
    // Unknown is "?", never 0: a MIG slot without an activity measure, and one without any window.
    expect(gpus[2]).toMatch(/^ {2}1\.0\s+3g\.40gb\s+bob \(notebook\)\s+\?$/);
    expect(gpus[3]).toMatch(/^ {2}1\.1\s+3g\.40gb\s+free\s+\?$/);

    const users = section(plain.stdout, 'USERS AND CONTAINERS');
    expect(users).toEqual([
      '  alice: GPUs 1 of 2, containers 1 of 3, memory 32g, cpus 32',
      '    thesis  running  gpu unknown',
      '  bob: GPUs 0.43 of 2, containers 1 of 3, memory 32g, cpus 32',
      '    notebook  exited  gpu unknown',
    ]);

    expect(section(plain.stdout, 'IDLE CONTAINERS').slice(1)).toEqual([
      expect.stringMatching(/^ {2}thesis\s+alice\s+20m ago$/),
    ]);
    // Soonest first: bob's GPU hold ends in 10 minutes, alice's idle stop in 25.
    const retirements = section(plain.stdout, 'UPCOMING RETIREMENTS').slice(1);
    expect(retirements).toHaveLength(2);
    expect(retirements[0]).toMatch(/^ {2}in (9|10)m\s+notebook\s+bob\s+gpu_hold\s+release GPU 1\.0$/);
    expect(retirements[1]).toMatch(/^ {2}in (24|25)m\s+thesis\s+alice\s+idle\s+stop$/);
    expect(section(plain.stdout, 'UNMANAGED CONTAINERS')).toEqual(['  (none)']);

    const processes = section(plain.stdout, 'HOST GPU PROCESSES').slice(1);
    expect(processes).toHaveLength(2); // the ended one is gone
    expect(processes[0]).toMatch(/^ {2}4242\s+carol\s+1\.1\s+2048 MiB\s+python train\.py --flag.*…$/);
    expect(processes[1]).toMatch(/^ {2}4343\s+\(unattributed\)\s+0\s+\?\s+mystery$/);

    const json = await runDs01(dataDir, ['admin', 'dashboard', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const dashboard = JSON.parse(json.stdout);
    expect(Object.keys(dashboard)).toEqual([
      'at',
      'gpus',
      'users',
      'idle',
      'retirements',
      'unmanaged',
      'hostProcesses',
    ]);
    expect(dashboard.gpus.map((g: { utilisation: unknown }) => g.utilisation)).toEqual([
      { meanPercent: 35, maxPercent: 80, windowEnd: iso(-MIN) },
      null,
      null,
    ]);
    expect(dashboard.users[0]).toMatchObject({
      user: 'alice',
      gpuEquivalents: 1,
      limits: { max_gpu_equivalents: 2, max_containers_per_user: 3 },
    });
    expect(dashboard.hostProcesses[0].command).toMatch(/^python train\.py( --flag){30} $/);
  }, 60_000);

  it('says "limits: error" for users whose limits do not load, and renders the rest', async () => {
    const dataDir = await labDataDir();
    const configDir = mkdtempSync(join(tmpdir(), 'ds01-broken-config-'));
    writeFileSync(join(configDir, 'resource-limits.yaml'), 'defaults: [this is not a mapping\n');
    const plain = await runDs01(dataDir, ['--config-dir', configDir, 'admin', 'dashboard']);
    expect(plain.code, plain.stderr).toBe(0);
    expectWithin80(plain.stdout);
    expect(section(plain.stdout, 'USERS AND CONTAINERS')).toEqual([
      '  alice: GPUs 1, containers 1, limits: error',
      '    thesis  running  gpu unknown',
      '  bob: GPUs 0.43, containers 1, limits: error',
      '    notebook  exited  gpu unknown',
    ]);
    expect(section(plain.stdout, 'HOST GPU PROCESSES')).toHaveLength(3);
  }, 60_000);

  it('shows "(none)" in every section of an empty server', async () => {
    const dataDir = newDataDir();
    const plain = await runDs01(dataDir, ['admin', 'dashboard']);
    expect(plain.code, plain.stderr).toBe(0);
    for (const title of TITLES) expect(section(plain.stdout, title), title).toEqual(['  (none)']);
  }, 60_000);

  it('keeps a simulated lab within 80 columns', async () => {
    const dataDir = newDataDir();
    // A fixed last day: a history ending today would depend on the calendar (on some days nobody's
    // container outlives midnight, and the users section is empty).
    const simulate = ['simulate', '--users', '30', '--days', '3', '--until', '2026-12-01', '--seed', '1'];
    expect((await runDs01(dataDir, simulate)).code).toBe(0);
    const json = await runDs01(dataDir, ['admin', 'dashboard', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const dashboard = JSON.parse(json.stdout) as { users: { containers: unknown[] }[] };
    expect(dashboard.users.length).toBeGreaterThan(0);
    const plain = await runDs01(dataDir, ['admin', 'dashboard']);
    expect(plain.code, plain.stderr).toBe(0);
    expectWithin80(plain.stdout);
  }, 90_000);
});
