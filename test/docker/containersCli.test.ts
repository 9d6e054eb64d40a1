import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hasAll, WatcherHarness } from '../../services/docker-watcher/test/harness.ts';
import { cleanupTestRun, describeWithDocker, TEST_RUN_LABEL, uniqueName } from '../support/docker.ts';

const DS01 = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'bin', 'ds01.js');

/** `ds01 containers` over what the watcher recorded from the real dockerd, through the real CLI. */
describeWithDocker('ds01 containers', (td) => {
  let h: WatcherHarness;
  let running: string;
  let removed: string;
  const runningName = uniqueName(td, 'cli-running');
  const removedName = uniqueName(td, 'cli-removed');

  const ds01 = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        [DS01, '--data-dir', h.dataDir, ...args],
        {
          env: { ...process.env, COLUMNS: '' },
        },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    h = new WatcherHarness(td.host);
    await h.startWatcher();
    const label = `${TEST_RUN_LABEL}=${td.runId}`;
    running = await h.docker(
      'run',
      '-d',
      '--name',
      runningName,
      '--label',
      label,
      '--label',
      'ds01.user=alice',
      td.image,
      'sleep',
      '120',
    );
    removed = await h.docker(
      'run',
      '-d',
      '--name',
      removedName,
      '--label',
      label,
      td.image,
      'sh',
      '-c',
      'exit 3',
    );
    await h.waitFor(removed, hasAll('ContainerStopped'));
    await h.docker('rm', removed);
    await h.waitFor(removed, hasAll('ContainerRemoved', 'ContainerDescribed'));
    await h.waitFor(running, hasAll('ContainerStarted', 'ContainerDescribed'));
    await h.stopWatcher();
    const rebuilt = await ds01('projections', 'rebuild', 'containers');
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
  });
  afterAll(async () => {
    await h?.close();
    await cleanupTestRun(td);
  });

  it('lists containers that exist, with owner and rule, interface, type, state', async () => {
    const { code, stdout } = await ds01('containers');
    expect(code).toBe(0);
    const line = stdout.split('\n').find((l) => l.includes(runningName))!;
    expect(line).toMatch(/alice \(claimed by label: ds01_label\)\s+docker\s+docker\s+running\s+none/);
    expect(line).toContain('UNMANAGED');
    expect(stdout).not.toContain(removedName);
    expect(stdout.split('\n')[0]).toMatch(
      /^CONTAINER\s+NAME\s+OWNER\s+INTERFACE\s+TYPE\s+STATE\s+GPU\s+AGE\s+IDLE SINCE/,
    );
  });

  it('--all includes removed ones; --user and --interface filter; --json gives rows', async () => {
    const all = JSON.parse((await ds01('containers', '--all', '--json')).stdout) as {
      name: string;
      status: string;
      exit_code: number;
    }[];
    expect(all.find((r) => r.name === removedName)).toMatchObject({ status: 'removed', exit_code: 3 });
    const alice = JSON.parse((await ds01('containers', '--user', 'alice', '--json')).stdout) as {
      name: string;
    }[];
    expect(alice.map((r) => r.name)).toContain(runningName);
    expect(alice.map((r) => r.name)).not.toContain(removedName);
    const vscode = await ds01('containers', '--interface', 'vscode', '--user', 'alice');
    expect(vscode.stdout).toContain('(no containers owned by alice, made through vscode');
    const wrong = await ds01('containers', '--interface', 'vscod');
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(
      /Allowed choices are orchestration, atomic, api, docker, vscode, other, unknown/,
    );
  });

  it("show: one container's details and its history from the log, by name or id prefix", async () => {
    const byName = await ds01('containers', 'show', removedName);
    expect(byName.code).toBe(0);
    expect(byName.stdout).toMatch(/owner:\s+unknown\n/);
    for (const type of [
      'ContainerCreated',
      'ContainerDescribed',
      'UnmanagedContainerDetected',
      'ContainerStarted',
      'ContainerStopped',
      'ContainerRemoved',
    ]) {
      expect(byName.stdout).toContain(type);
    }
    expect(byName.stdout).toContain('exitCode=3');
    // The history table reads in the order things happened (the stream's order is when DS01 learned them).
    const times = byName.stdout
      .split('\n')
      .map((line) => /^(\d{4}-\d\d-\d\dT[\d:.]+Z)\s/.exec(line)?.[1])
      .filter((t): t is string => t !== undefined);
    expect(times.length).toBeGreaterThanOrEqual(6);
    expect(times).toEqual(times.toSorted());
    const byId = JSON.parse((await ds01('containers', 'show', running.slice(0, 10), '--json')).stdout) as {
      container: { name: string };
      events: { type: string }[];
    };
    expect(byId.container.name).toBe(runningName);
    // Its description joins the stream when dockerd answers inspect, which may be after its start.
    expect(byId.events.map((e) => e.type).toSorted()).toEqual([
      'ContainerCreated',
      'ContainerDescribed',
      'ContainerStarted',
      'UnmanagedContainerDetected',
    ]);
    const missing = await ds01('containers', 'show', 'no-such-container');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no container 'no-such-container'");
  });
});
