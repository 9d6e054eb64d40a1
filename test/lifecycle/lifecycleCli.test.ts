import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ContainerCreated,
  ContainerDescribed,
  ContainerStarted,
  containerStream,
  eventCatalog,
  lifecycleStream,
} from '@ds01/domain';
import { type NewEvent, type RecordedEvent, SqliteEventStore } from '@ds01/event-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labConfigDir, runDs01 } from '../support/ds01d.ts';
import { ensureTestUser, type TestUser } from '../support/users.ts';

const ID = 'd'.repeat(64);
const ref = { containerId: ID, name: 'notebook', observation: 'observed' as const, dockerEvent: null };
const event = (e: { type: string; data: unknown }): NewEvent => ({
  ...e,
  metadata: {
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    actor: { kind: 'service', name: 'docker-watcher' },
    host: 'gpu01',
    correlationId: randomUUID(),
    causationId: null,
  },
});

/** `ds01 lifecycle` and `ds01 user depart` on a log with one running container (no ds01d). */
describe('ds01 lifecycle (CLI)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ds01-lifecycle-cli-'));
  const configDir = labConfigDir(mkdtempSync(join(tmpdir(), 'ds01-lifecycle-cli-config-')), {
    host: 'gpu01',
  });
  const ds01 = (...args: string[]) => runDs01(args, { dataDir, configDir });
  let store: SqliteEventStore;

  beforeAll(async () => {
    store = new SqliteEventStore({ path: join(dataDir, 'events.db'), codec: eventCatalog });
    await store.append(containerStream(ID), [
      event(ContainerCreated({ ...ref, image: 'busybox', labels: {} })),
      event(
        ContainerDescribed({
          ...ref,
          describedFrom: 'inspect',
          image: 'busybox',
          imageId: 'sha256:1',
          createdAt: new Date().toISOString(),
          owner: { user: 'alice', rule: 'compose_dir', evidence: '/home/alice/p' },
          interface: 'docker',
          type: 'docker',
          managed: false,
          infrastructure: false,
          gpu: { access: 'none' },
          cgroupParent: null,
          limits: null,
          labels: {},
        }),
      ),
      event(ContainerStarted({ ...ref, startedAt: new Date().toISOString() })),
    ]);
  });
  afterAll(() => store.close());

  const lifecycleEvents = async () => {
    const events: RecordedEvent[] = [];
    for await (const e of store.readStream(lifecycleStream(ID))) events.push(e);
    return events;
  };

  it('lists nothing coming, and every container with --all', async () => {
    const none = await ds01('lifecycle');
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('no retirement coming');
    const all = await ds01('lifecycle', '--all', '--json');
    expect(JSON.parse(all.stdout)).toMatchObject([
      { containerId: ID, name: 'notebook', user: 'alice', status: 'running', retirement: null },
    ]);
  });

  it('an admin retires a container: recorded, warned, listed with why', async () => {
    const retired = await ds01('lifecycle', 'retire', 'notebook', '--in', '2h', '--reason', 'maintenance');
    expect(retired.stderr).toBe('');
    expect(retired.code).toBe(0);
    const list = JSON.parse((await ds01('lifecycle', '--user', 'alice', '--json')).stdout);
    expect(list[0].retirement).toMatchObject({
      reason: 'admin',
      action: 'stop',
      detail: expect.stringContaining('maintenance'),
    });
    const table = await ds01('lifecycle');
    expect(table.stdout).toMatch(/notebook .* alice .* admin/);
    expect((await lifecycleEvents()).map((e) => e.type)).toEqual(['RetirementScheduled']);
  });

  it('exempt and extend are recorded as events, with who did it', async () => {
    expect(
      (await ds01('lifecycle', 'exempt', 'notebook', '--from', 'idle', '--reason', 'data load')).code,
    ).toBe(0);
    expect(
      (await ds01('lifecycle', 'extend', ID.slice(0, 8), '--for', '4h', '--reason', 'deadline')).code,
    ).toBe(0);
    const events = await lifecycleEvents();
    expect(events.map((e) => e.type)).toEqual([
      'RetirementScheduled',
      'LifecycleExemptionGranted',
      'LifecycleExtended',
    ]);
    expect(events[1]!.metadata.actor.kind).toBe('user');
    const history = await ds01('lifecycle', 'history', 'notebook');
    expect(history.stdout).toContain('LifecycleExemptionGranted');
  });

  it('a container DS01 does not know: a clear error and what to do', async () => {
    const result = await ds01('lifecycle', 'extend', 'nosuch', '--for', '1h', '--reason', 'x');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("no container 'nosuch'");
    expect(result.stderr).toContain('hint:');
  });

  it('ds01 user depart records the departure', async () => {
    const result = await ds01('user', 'depart', 'alice', '--reason', 'graduated');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('alice departed');
    const events: RecordedEvent[] = [];
    for await (const e of store.readStream('user-alice')) events.push(e);
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['UserDeparted', { user: 'alice', reason: 'graduated' }],
    ]);
  });

  describe('admin commands, run by an ordinary user', () => {
    let user: TestUser;
    beforeAll(async () => {
      user = await ensureTestUser('lcli');
    });
    /** The CLI as that user (runuser), on the same dirs: what they may not do is refused, not attempted. */
    const asUser = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const ds01 = join(process.cwd(), 'packages', 'cli', 'bin', 'ds01.js');
        execFile(
          'runuser',
          [
            '-u',
            user.name,
            '--',
            process.execPath,
            ds01,
            '--data-dir',
            dataDir,
            '--config-dir',
            configDir,
            ...args,
          ],
          { cwd: '/' },
          (error, stdout, stderr) =>
            resolve({
              code: error ? Number((error as { code?: unknown }).code ?? 1) || 1 : 0,
              stdout,
              stderr,
            }),
        );
      });

    it.each([
      ['lifecycle extend', ['lifecycle', 'extend', 'notebook', '--for', '1h', '--reason', 'mine now']],
      ['lifecycle exempt', ['lifecycle', 'exempt', 'notebook', '--from', 'idle', '--reason', 'mine now']],
      ['lifecycle retire', ['lifecycle', 'retire', 'notebook', '--reason', 'not mine']],
      ['user depart', ['user', 'depart', 'alice', '--reason', 'not mine']],
    ])('`ds01 %s` is refused, naming who they are and what to do', async (command, args) => {
      const before = (await lifecycleEvents()).length;
      const result = await asUser(...args);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `\`ds01 ${command}\` is for admins (root); you are ${user.name} (uid ${user.uid})`,
      );
      expect(result.stderr).toMatch(/hint: ask an admin of this machine/);
      expect((await lifecycleEvents()).length).toBe(before);
    });
  });
});
