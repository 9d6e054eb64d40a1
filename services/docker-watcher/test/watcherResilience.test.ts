import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import {
  cleanupTestRun,
  describeWithDocker,
  TEST_RUN_LABEL,
  uniqueName,
} from '../../../test/support/docker.ts';
import { PrivateDockerd } from '../../../test/support/privateDockerd.ts';
import { duplicates, hasAll, WatcherHarness } from './harness.ts';

const RUN_WATCHER = fileURLToPath(new URL('./runWatcher.ts', import.meta.url));

describeWithDocker('docker watcher: reconciliation, kill -9, daemon restart', (td) => {
  const label = `${TEST_RUN_LABEL}=${td.runId}`;
  afterAll(() => cleanupTestRun(td));

  it('reconciles on restart what happened while it was stopped, and only once', {
    timeout: 120_000,
  }, async () => {
    const h = new WatcherHarness(td.host);
    try {
      await h.startWatcher();
      const known = await h.docker(
        'run',
        '-d',
        '--name',
        uniqueName(td, 'known'),
        '--label',
        label,
        td.image,
        'sleep',
        '300',
      );
      await h.waitFor(known, hasAll('ContainerStarted'));
      await h.stopWatcher();

      // While nobody watches: one container comes and goes, one appears and runs, a known one is removed.
      const fleeting = await h.docker(
        'create',
        '--name',
        uniqueName(td, 'fleeting'),
        '--label',
        label,
        td.image,
      );
      await h.docker('rm', fleeting);
      const appeared = await h.docker(
        'run',
        '-d',
        '--name',
        uniqueName(td, 'appeared'),
        '--label',
        label,
        td.image,
        'sleep',
        '300',
      );
      await h.docker('rm', '-f', known);

      await h.startWatcher();
      // Docker still had the events since the checkpoint: replayed, so observed with their precise times.
      // (Events of the second the watcher started in come just after the start, from the live stream.)
      // A description joins the stream when inspect answers, so it may follow later events: compare sorted.
      const fleetingTypes = await h.waitFor(fleeting, hasAll('ContainerRemoved', 'ContainerDescribed'));
      const appearedTypes = await h.waitFor(appeared, hasAll('ContainerStarted', 'ContainerDescribed'));
      await h.waitFor(known, hasAll('ContainerRemoved'), 'its removal');
      expect(fleetingTypes.toSorted()).toEqual([
        'ContainerCreated',
        'ContainerDescribed',
        'ContainerRemoved',
        'UnmanagedContainerDetected',
      ]);
      expect(fleetingTypes[0]).toBe('ContainerCreated');
      // Gone before it could be inspected: described from its event, GPU access unknown.
      const fleetingDescribed = (await h.events(fleeting)).find((e) => e.type === 'ContainerDescribed')!.data;
      expect(fleetingDescribed).toMatchObject({
        observation: 'observed',
        describedFrom: 'event-attributes',
        gpu: { access: 'unknown' },
      });
      expect(appearedTypes.toSorted()).toEqual([
        'ContainerCreated',
        'ContainerDescribed',
        'ContainerStarted',
        'UnmanagedContainerDetected',
      ]);
      expect((await h.types(known)).at(-1)).toBe('ContainerRemoved');

      // Without the checkpoint (the daemon's buffer lost: restarted, or too many events) reconciliation alone
      // must find the changes: stop the watcher, lose the checkpoint, change things, start again.
      await h.stopWatcher();
      rmSync(h.checkpointPath);
      await h.docker('stop', '-t', '0', appeared);
      const unseen = await h.docker(
        'run',
        '-d',
        '--name',
        uniqueName(td, 'unseen'),
        '--label',
        label,
        td.image,
        'sleep',
        '300',
      );
      await h.startWatcher();
      const unseenEvents = await h.events(unseen);
      expect(unseenEvents.map((e) => e.type)).toEqual([
        'ContainerCreated',
        'ContainerDescribed',
        'UnmanagedContainerDetected',
        'ContainerStarted',
      ]);
      for (const e of unseenEvents)
        expect(e.data).toMatchObject({ observation: 'reconciled', dockerEvent: null });
      const appearedEvents = await h.events(appeared);
      expect(appearedEvents.at(-1)).toMatchObject({
        type: 'ContainerStopped',
        data: { observation: 'reconciled', exitCode: 137 },
      });

      // A second reconciliation of the same state appends nothing.
      const count = await h.store.countEvents();
      await h.stopWatcher();
      rmSync(h.checkpointPath);
      await h.startWatcher();
      expect(await h.events(unseen)).toHaveLength(4);
      expect(await h.events(appeared)).toHaveLength(appearedEvents.length);
      expect(h.watcher!.status().reconciliations).toBe(1);
      expect(await h.store.countEvents()).toBeGreaterThanOrEqual(count);
      for (const id of [fleeting, appeared, known, unseen])
        expect(duplicates(await h.events(id))).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('no duplicate events after the watcher is killed with -9 mid-stream and started again', {
    timeout: 90_000,
  }, async () => {
    const h = new WatcherHarness(td.host);
    const startChild = async (): Promise<ChildProcess> => {
      const child = spawn(process.execPath, [RUN_WATCHER, h.storePath, h.checkpointPath, td.host], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        child.once('exit', (code) => reject(new Error(`watcher exited early (${code})`)));
      });
      return child;
    };
    let child: ChildProcess | undefined;
    try {
      child = await startChild();
      const ids: string[] = [];
      // Containers come and go while the watcher is killed twice without warning.
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 4; i++) {
          const id = await h.docker(
            'run',
            '-d',
            '--name',
            uniqueName(td, `k${round}${i}`),
            '--label',
            label,
            td.image,
            'true',
          );
          ids.push(id);
        }
        if (round < 2) {
          const exited = new Promise((r) => child!.once('exit', r));
          child.kill('SIGKILL');
          await exited;
          child = await startChild();
        }
      }
      for (const id of ids) await h.waitFor(id, hasAll('ContainerStopped', 'ContainerDescribed'), 'its exit');
      child.kill('SIGKILL');
      child = await startChild(); // replays since the checkpoint once more: still nothing new
      for (const id of ids) {
        const events = await h.events(id);
        expect(duplicates(events)).toEqual([]);
        const types = events.map((e) => e.type);
        const story = `${id.slice(0, 12)}: ${events.map((e) => `${e.type}(${(e.data as { observation: string }).observation})`).join(', ')}`;
        for (const once of ['ContainerCreated', 'ContainerDescribed', 'ContainerStarted', 'ContainerStopped'])
          expect(
            types.filter((t) => t === once),
            story,
          ).toHaveLength(1);
      }
      child.kill('SIGTERM');
      await new Promise((r) => child!.once('exit', r));
    } finally {
      // A failed assertion must not leave a watcher running (it would append to the test dockerd's events).
      if (child && child.exitCode === null) child.kill('SIGKILL');
      await h.close();
    }
  });

  it('survives its dockerd being killed and restarted: reconnects, catches up, no duplicates', async () => {
    if (process.getuid?.() !== 0)
      throw new Error('this test starts a dockerd of its own: run it as root (sudo scripts/test.sh)');
    const daemon = new PrivateDockerd(td.runId);
    const h = new WatcherHarness(daemon.host);
    try {
      await daemon.start();
      await daemon.loadImageFrom(td);
      const watcher = await h.startWatcher();
      const before = await daemon.docker('run', '-d', '--name', 'before-kill', td.image, 'sleep', '300');
      await h.waitFor(before, hasAll('ContainerStarted'));

      await daemon.kill();
      await new Promise((r) => setTimeout(r, 300)); // the watcher notices and starts retrying
      expect(watcher.status().connected).toBe(false);
      await daemon.start();
      const after = await daemon.docker('run', '-d', '--name', 'after-restart', td.image, 'true');

      await h.waitFor(
        after,
        hasAll('ContainerCreated', 'ContainerStarted', 'ContainerStopped'),
        'after the restart',
      );
      // The killed daemon's container is not running any more: recorded as stopped (reconciled).
      await h.waitFor(before, hasAll('ContainerStopped'), 'the stop of the container the kill took down');
      expect(watcher.status()).toMatchObject({ connected: true });
      expect(watcher.status().reconnects).toBeGreaterThanOrEqual(1);
      expect(h.logs.some((l) => l.level === 'warn' && /cannot reach the Docker daemon/.test(l.msg))).toBe(
        true,
      );
      for (const id of [before, after]) expect(duplicates(await h.events(id))).toEqual([]);
    } finally {
      await h.close();
      await daemon.destroy();
    }
  }, 180_000); // a restarted dockerd takes ~15 s to stop the containers its crash left behind
});
