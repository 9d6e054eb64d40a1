import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type GatewayLab, removeRunResources, startGatewayLab } from '../gateway/gatewayLab.ts';
import { describeWithDocker } from '../support/docker.ts';
import { nvidiaDevicesOf } from '../support/nvidiaToolkit.ts';
import type { TestUser } from '../support/users.ts';
import { busyboxImages, removeUserLeftovers } from './workflowLab.ts';

/**
 * `ds01 project init` + `ds01 project launch` as alice through her gateway socket, then
 * `devcontainer up` (@devcontainers/cli) on the scaffolded project through the same socket.
 */
describeWithDocker('ds01 project: init, launch, devcontainer up as a real user', (td) => {
  let lab: GatewayLab;
  let alice: TestUser;
  const ds01 = join(process.cwd(), 'packages', 'cli', 'bin', 'ds01.js');
  const name = `proj-${td.runId}`;
  const gpuDev = `gpudev-${td.runId}`;
  const as = (...args: string[]) =>
    lab.as(alice, ds01, ['--config-dir', lab.configDir, ...args], { timeoutMs: 50_000 });
  let folder: string;

  beforeAll(async () => {
    lab = await startGatewayLab(td, ['alice'], {
      editYaml: busyboxImages(
        td,
        '    pytorch: { image: "pytorch/pytorch:2.5.1-cuda12.1-cudnn9-runtime", description: "PyTorch 2.5.1" }\n',
      ),
    });
    alice = lab.users['alice']!;
    folder = join(alice.home, name);
  });
  afterAll(async () => {
    await lab?.stop();
    await removeRunResources(td, td.runId);
    await removeUserLeftovers(td, alice, name, [name, `gpu-${td.runId}`]);
    await removeUserLeftovers(td, alice, gpuDev);
  });

  it('init scaffolds a project of hers; the pytorch template asks for a GPU', async () => {
    const init = await as('project', 'init', name, '--template', 'minimal');
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain(`made project ${name} in ${folder}`);
    for (const file of ['Dockerfile', '.devcontainer/devcontainer.json', 'README.md']) {
      expect((await stat(join(folder, file))).uid, file).toBe(alice.uid);
    }
    expect(await readFile(join(folder, 'Dockerfile'), 'utf8')).toContain(`FROM ${td.image}`);
    const again = await as('project-init', name);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is a project already/);

    const gpuProject = `gpu-${td.runId}`;
    const pytorch = await as('project', 'init', gpuProject, '--template', 'pytorch');
    expect(pytorch.code, pytorch.stderr).toBe(0);
    const devcontainer = await readFile(
      join(alice.home, gpuProject, '.devcontainer', 'devcontainer.json'),
      'utf8',
    );
    expect(devcontainer).toContain('"runArgs": [\n    "--gpus",\n    "1"\n  ]');
    expect(devcontainer).toContain(`unix://${lab.socketOf(alice)}`);
    expect(await readFile(join(alice.home, gpuProject, 'Dockerfile'), 'utf8')).toContain(
      'FROM pytorch/pytorch:2.5.1-cuda12.1-cudnn9-runtime',
    );
  });

  it('launch builds ds01-<user>/<name> and runs it with the project at /workspace; again, it reuses both', {
    timeout: 60_000,
  }, async () => {
    const launched = await as('project', 'launch', name);
    expect(launched.code, launched.stderr).toBe(0);
    expect(launched.stdout).toContain(`building ds01-${alice.name}/${name}:latest`);
    expect(launched.stdout).toContain(`deployed ${name} (Docker: ${name}._.${alice.uid})`);
    const container = await td.docker.getContainer(`${name}._.${alice.uid}`).inspect();
    expect(container.HostConfig.Binds).toEqual([`${folder}:/workspace`]);
    expect(container.Config.Image).toBe(`ds01-${alice.name}/${name}:latest`);
    const again = await as('project-launch', name);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).not.toContain('building');
    expect(again.stdout).toContain(`${name} is running`);
    expect((await as('container', 'retire', name, '-t', '0')).code).toBe(0);
  });

  it('devcontainer up on the scaffolded project works through her socket', { timeout: 120_000 }, async () => {
    const cli = join(process.cwd(), 'node_modules', '.bin', 'devcontainer');
    const up = await lab.as(alice, cli, ['up', '--workspace-folder', folder], { timeoutMs: 110_000 });
    const outcome = JSON.parse(up.stdout.trim().split('\n').at(-1)!) as {
      outcome: string;
      containerId: string;
    };
    expect(outcome.outcome, up.stderr).toBe('success');
    const container = await td.docker.getContainer(outcome.containerId).inspect();
    expect(container.Config.Labels).toMatchObject({ 'ds01.user': alice.name, 'ds01.interface': 'vscode' });
    expect(container.Mounts.find((m) => m.Destination === '/workspace')?.Source).toBe(folder);
    await td.docker.getContainer(outcome.containerId).remove({ force: true });
  });

  it('devcontainer up of a project asking for a GPU starts with the device DS01 granted', {
    timeout: 150_000,
  }, async () => {
    const init = await as('project', 'init', gpuDev, '--template', 'minimal', '--gpus', '1');
    expect(init.code, init.stderr).toBe(0);
    // launch builds the image the devcontainer.json names (and runs it with a GPU); retire frees that.
    const launched = await as('project', 'launch', gpuDev);
    expect(launched.code, launched.stderr).toBe(0);
    expect((await as('container', 'retire', gpuDev, '-t', '0')).code).toBe(0);

    const cli = join(process.cwd(), 'node_modules', '.bin', 'devcontainer');
    const workspace = join(alice.home, gpuDev);
    const up = await lab.as(alice, cli, ['up', '--workspace-folder', workspace], { timeoutMs: 110_000 });
    const outcome = JSON.parse(up.stdout.trim().split('\n').at(-1)!) as {
      outcome: string;
      containerId: string;
    };
    expect(outcome.outcome, up.stderr).toBe('success');
    const container = await td.docker.getContainer(outcome.containerId).inspect();
    expect(container.State.Running).toBe(true);
    const bound = (await lab.events('GpuGrantBound')).filter(
      (e) => (e.data as { containerId: string }).containerId === outcome.containerId,
    );
    const requestIds = bound.map((e) => (e.data as { requestId: string }).requestId);
    const granted = (await lab.events('GpuAllocated'))
      .filter((e) => requestIds.includes((e.data as { requestId: string }).requestId))
      .map((e) => (e.data as { deviceId: string }).deviceId);
    expect(granted).toHaveLength(1);
    expect(container.HostConfig.DeviceRequests?.[0]?.DeviceIDs).toEqual(granted);
    expect(await nvidiaDevicesOf(outcome.containerId)).toEqual(granted);
    expect(container.Config.Env).toContain(`NVIDIA_VISIBLE_DEVICES=${granted[0]}`);
    await td.docker.getContainer(outcome.containerId).remove({ force: true });
  });
});
