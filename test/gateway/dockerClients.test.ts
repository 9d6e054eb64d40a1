import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithDocker, uniqueName } from '../support/docker.ts';
import { nvidiaDevicesOf } from '../support/nvidiaToolkit.ts';
import { ensureUserFolder } from '../support/users.ts';
import { waitUntil } from '../support/waitUntil.ts';
import { type GatewayLab, removeRunResources, startGatewayLab } from './gatewayLab.ts';

/**
 * Real clients through alice's gateway socket, run as alice: the docker CLI, Debian's docker-compose
 * and @devcontainers/cli. Each container they make is labelled and recorded with its kernel-checked
 * owner (ContainerCreateAuthorized). `--gpus` containers start on the simulated inventory: the test
 * dockerd's stand-in NVIDIA toolkit hook records the devices each was given.
 */
describeWithDocker('the gateway with real Docker clients', (td) => {
  let lab: GatewayLab;
  const prefix = `ds01t-${td.runId}`;
  const looping = [
    'sh',
    '-c',
    'trap "exit 0" TERM; i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done',
  ];

  beforeAll(async () => {
    lab = await startGatewayLab(td, ['alice']);
  });
  afterAll(async () => {
    await lab?.stop();
    await removeRunResources(td, prefix);
  });

  const docker = (...args: string[]) => lab.as(lab.users['alice']!, 'docker', args);

  /** The device the allocator granted the container (GpuGrantBound → its GpuAllocated). */
  const grantedDevicesOf = async (containerId: string) => {
    const bound = (await lab.events('GpuGrantBound')).filter(
      (e) => (e.data as { containerId: string }).containerId === containerId,
    );
    const requests = new Set(bound.map((e) => (e.data as { requestId: string }).requestId));
    return (await lab.events('GpuAllocated'))
      .filter((e) => requests.has((e.data as { requestId: string }).requestId))
      .map((e) => (e.data as { deviceId: string }).deviceId);
  };
  const authorizedAs = async (name: string) => {
    const found = (await lab.events('ContainerCreateAuthorized')).filter(
      (e) => (e.data as { name: string }).name === name,
    );
    expect(found, `ContainerCreateAuthorized of ${name}`).toHaveLength(1);
    return found[0]!.data as { containerId: string; devices: string[] };
  };
  const releasedFor = (containerId: string) => async () =>
    (await lab.events('GpuReleased')).some(
      (e) => (e.data as { containerId: string }).containerId === containerId,
    );

  it('docker run, ps, logs -f, exec -it (a pty), stop and rm work, and the container is attributed', async () => {
    const name = uniqueName(td, 'cli');
    const run = await docker('run', '-d', '--name', name, td.image, ...looping);
    expect(run.stderr).toBe('');
    const id = run.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);

    const ps = await docker('ps', '--format', '{{.Names}}');
    expect(ps.stdout.split('\n')).toContain(name);
    const labels = JSON.parse((await docker('inspect', '--format', '{{json .Config.Labels}}', name)).stdout);
    expect(labels).toMatchObject({
      'ds01.user': lab.users['alice']!.name,
      'ds01.managed': 'true',
      'ds01.interface': 'docker',
    });

    // logs -f streams: lines arrive while the container runs.
    const follower = lab.spawnAs(lab.users['alice']!, 'docker', ['logs', '-f', name]);
    let followed = '';
    follower.stdout!.on('data', (chunk: Buffer) => {
      followed += chunk.toString();
    });
    await waitUntil(() => /line 3\n/.test(followed), 'docker logs -f to stream 4 lines', 20_000);
    follower.kill();

    // exec -it with a pty (script gives docker a terminal): the hijacked connection carries both ways.
    const exec = await lab.as(lab.users['alice']!, 'script', [
      '-qec',
      `docker exec -it ${name} sh -c 'echo exec-says-hello; tty'`,
      '/dev/null',
    ]);
    expect(exec.stdout).toContain('exec-says-hello');
    expect(exec.stdout).toMatch(/\/dev\/pts\/\d+/);

    expect((await docker('stop', '-t', '1', name)).stdout.trim()).toBe(name);
    expect((await docker('rm', name)).stdout.trim()).toBe(name);

    const [authorized] = await lab.events('ContainerCreateAuthorized');
    expect(authorized).toMatchObject({
      streamId: `container-${id}`,
      data: {
        containerId: id,
        user: lab.users['alice']!.name,
        interface: 'docker',
        name,
        socket: { kind: 'user', user: lab.users['alice']!.name, path: lab.socketOf(lab.users['alice']!) },
      },
    });
  });

  it('docker run -it: stdin and a terminal through the hijacked attach', async () => {
    const name = uniqueName(td, 'it');
    const session = await lab.as(lab.users['alice']!, 'sh', [
      '-c',
      `echo 'echo typed-into-run-it; exit 0' | script -qec "docker run -it --name ${name} ${td.image} sh" /dev/null`,
    ]);
    expect(session.stdout).toContain('typed-into-run-it');
    await docker('rm', '-f', name);
  });

  it('docker create --gpus 1 on the simulated inventory: granted and rewritten to the allocated device', async () => {
    const name = uniqueName(td, 'gpu');
    const created = await docker('create', '--gpus', '1', '--name', name, td.image, 'true');
    expect(created.stderr).toBe('');
    const requests = JSON.parse(
      (await docker('inspect', '--format', '{{json .HostConfig.DeviceRequests}}', name)).stdout,
    );
    // The gateway's grant: ds01d's switch-over at its first start also records (reconciled) what GPU
    // containers of other suites on the shared test dockerd hold, some of them labelled for alice.
    const [granted] = (await lab.events('GpuAllocated')).filter(
      (e) =>
        (e.data as { user: string }).user === lab.users['alice']!.name && e.metadata.actor.name === 'gateway',
    );
    expect(granted).toBeDefined();
    expect(requests).toEqual([
      expect.objectContaining({
        Driver: 'nvidia',
        DeviceIDs: [(granted!.data as { deviceId: string }).deviceId],
      }),
    ]);
    const [authorized] = (await lab.events('ContainerCreateAuthorized')).filter(
      (e) => (e.data as { name: string }).name === name,
    );
    expect(authorized!.data).toMatchObject({ devices: [(granted!.data as { deviceId: string }).deviceId] });
    await docker('rm', name);
    // Its GPU back before the next tests count alice's GPUs.
    const { containerId } = authorized!.data as { containerId: string };
    await waitUntil(releasedFor(containerId), `the GPU of ${name} released`, 20_000);
  });

  it('docker run --rm --gpus 1, and a MIG profile: the process sees the granted UUID the toolkit was given', {
    timeout: 60_000,
  }, async () => {
    const asked: Array<[string, string, RegExp]> = [
      ['gpus1', '1', /^(GPU|MIG)-simulated-\d(-\d)?$/],
      // `ds01 container deploy --profile` sends this; the docker CLI can too.
      ['mig', '"options=ds01.profile=1g.10gb",count=1', /^MIG-simulated-[23]-\d$/],
    ];
    for (const [hint, gpus, shape] of asked) {
      const name = uniqueName(td, hint);
      const run = await docker(
        'run',
        '--rm',
        '--name',
        name,
        '--gpus',
        gpus,
        td.image,
        'sh',
        '-c',
        'echo $NVIDIA_VISIBLE_DEVICES',
      );
      expect(run.code, run.stderr).toBe(0);
      const visible = run.stdout.trim();
      expect(visible).toMatch(shape);
      const { containerId, devices } = await authorizedAs(name);
      expect(devices).toEqual([visible]);
      expect(await grantedDevicesOf(containerId)).toEqual([visible]);
      expect(await nvidiaDevicesOf(containerId)).toEqual([visible]);
      // --rm removed it: the watcher frees its GPU.
      await waitUntil(releasedFor(containerId), `the GPU of ${name} released after --rm`, 20_000);
    }
  });

  it('GPUs not granted are refused: a device= request gets the device DS01 chose, NVIDIA_VISIBLE_DEVICES is refused, over the quota nothing is created', {
    timeout: 60_000,
  }, async () => {
    // Alice takes both whole GPUs (her 2.0 GPU-equivalents).
    const holders = [uniqueName(td, 'full-a'), uniqueName(td, 'full-b')];
    const held: string[] = [];
    for (const name of holders) {
      const created = await docker(
        'create',
        '--name',
        name,
        '--gpus',
        '"options=ds01.profile=full",count=1',
        td.image,
        'true',
      );
      expect(created.code, created.stderr).toBe(0);
      held.push(...(await authorizedAs(name)).devices);
    }
    expect(held).toEqual([
      expect.stringMatching(/^GPU-simulated-/),
      expect.stringMatching(/^GPU-simulated-/),
    ]);

    // Naming a device reaches it only through a grant: over the quota, nothing is granted or created.
    const named = uniqueName(td, 'named');
    const byDevice = await docker(
      'run',
      '--rm',
      '--name',
      named,
      '--gpus',
      `"device=${held[0]}"`,
      td.image,
      'true',
    );
    expect(byDevice.code).not.toBe(0);
    expect(byDevice.stderr).toMatch(/holds 2 of 2 GPU-equivalents \(max_gpu_equivalents\)/);
    const over = uniqueName(td, 'over');
    const denied = await docker('run', '--rm', '--name', over, '--gpus', '1', td.image, 'true');
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(
      /holds 2 of 2 GPU-equivalents \(max_gpu_equivalents\).*ask for a smaller profile/,
    );
    const denials = (await lab.events('GpuAllocationDenied')).filter(
      (e) => (e.data as { user: string }).user === lab.users['alice']!.name,
    );
    expect(denials.map((e) => (e.data as { reason: { code: string } }).reason.code)).toEqual([
      'over_quota',
      'over_quota',
    ]);
    const all = (await docker('ps', '-a', '--format', '{{.Names}}')).stdout.split('\n');
    expect(all).not.toContain(named);
    expect(all).not.toContain(over);

    // The environment way to a GPU is refused by its rule, whatever is free.
    const byEnv = await docker('run', '--rm', '-e', `NVIDIA_VISIBLE_DEVICES=${held[1]}`, td.image, 'true');
    expect(byEnv.code).not.toBe(0);
    expect(byEnv.stderr).toContain(`NVIDIA_VISIBLE_DEVICES=${held[1]} would reach GPUs DS01 did not grant`);

    // With one whole GPU given back, `device=<the other, held one>` is granted a free device DS01 chose.
    const freed = (await authorizedAs(holders[0]!)).containerId;
    expect((await docker('rm', holders[0]!)).code).toBe(0);
    await waitUntil(releasedFor(freed), `the GPU of ${holders[0]} released`, 20_000);
    const chosen = uniqueName(td, 'chosen');
    const run = await docker(
      'run',
      '--rm',
      '--name',
      chosen,
      '--gpus',
      `"device=${held[1]}"`,
      td.image,
      'sh',
      '-c',
      'echo $NVIDIA_VISIBLE_DEVICES',
    );
    expect(run.code, run.stderr).toBe(0);
    const visible = run.stdout.trim();
    expect(visible).not.toBe(held[1]);
    const { containerId } = await authorizedAs(chosen);
    expect(await nvidiaDevicesOf(containerId)).toEqual([visible]);
    await waitUntil(releasedFor(containerId), `the GPU of ${chosen} released after --rm`, 20_000);
    const other = (await authorizedAs(holders[1]!)).containerId;
    expect((await docker('rm', holders[1]!)).code).toBe(0);
    await waitUntil(releasedFor(other), `the GPU of ${holders[1]} released`, 20_000);
  });

  it('docker-compose up and down (Debian docker-compose 1.29) through the socket', {
    timeout: 120_000,
  }, async () => {
    const alice = lab.users['alice']!;
    const project = await ensureUserFolder(alice, `compose-${td.runId}`);
    await writeFile(
      join(project, 'docker-compose.yml'),
      ["version: '3'", 'services:', '  worker:', `    image: ${td.image}`, '    command: sleep 60', ''].join(
        '\n',
      ),
    );
    const projectName = `${prefix}-stack`;
    const up = await lab.as(alice, 'docker-compose', ['-p', projectName, 'up', '-d'], { cwd: project });
    expect(up.code, up.stderr).toBe(0);
    const ps = await docker(
      'ps',
      '--format',
      '{{.Names}} {{.Label "ds01.user"}} {{.Label "ds01.interface"}}',
    );
    expect(ps.stdout).toContain(`${projectName}_worker_1 ${alice.name} other`);
    const down = await lab.as(alice, 'docker-compose', ['-p', projectName, 'down', '-t', '1'], {
      cwd: project,
    });
    expect(down.code, down.stderr).toBe(0);
    expect((await docker('ps', '-a', '--format', '{{.Names}}')).stdout).not.toContain(projectName);
  });

  it('docker-compose up with a deploy.resources.reservations.devices GPU request starts with its grant', {
    timeout: 120_000,
  }, async () => {
    const alice = lab.users['alice']!;
    const project = await ensureUserFolder(alice, `compose-gpu-${td.runId}`);
    await writeFile(
      join(project, 'docker-compose.yml'),
      [
        'services:',
        '  trainer:',
        `    image: ${td.image}`,
        '    command: sleep 60',
        '    deploy:',
        '      resources:',
        '        reservations:',
        '          devices:',
        '            - driver: nvidia',
        '              count: 1',
        '              capabilities: [gpu]',
        '',
      ].join('\n'),
    );
    const projectName = `${prefix}-gpustack`;
    const up = await lab.as(alice, 'docker-compose', ['-p', projectName, 'up', '-d'], { cwd: project });
    expect(up.code, up.stderr).toBe(0);
    const { containerId, devices } = await authorizedAs(`${projectName}_trainer_1`);
    expect(devices).toHaveLength(1);
    expect(await grantedDevicesOf(containerId)).toEqual(devices);
    expect(await nvidiaDevicesOf(containerId)).toEqual(devices);
    expect((await td.docker.getContainer(containerId).inspect()).State.Running).toBe(true);
    const down = await lab.as(alice, 'docker-compose', ['-p', projectName, 'down', '-t', '1'], {
      cwd: project,
    });
    expect(down.code, down.stderr).toBe(0);
    await waitUntil(releasedFor(containerId), 'the GPU of the compose service released after down', 20_000);
  });

  it('devcontainer up (@devcontainers/cli) through the socket', { timeout: 120_000 }, async () => {
    const alice = lab.users['alice']!;
    const project = await ensureUserFolder(alice, `${prefix}-dev`);
    await ensureUserFolder(alice, `${prefix}-dev/.devcontainer`);
    await writeFile(join(project, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: td.image }));
    const cli = join(process.cwd(), 'node_modules', '.bin', 'devcontainer');
    const up = await lab.as(alice, cli, ['up', '--workspace-folder', project], { timeoutMs: 110_000 });
    const outcome = JSON.parse(up.stdout.trim().split('\n').at(-1)!) as {
      outcome: string;
      containerId: string;
    };
    expect(outcome.outcome).toBe('success');
    const labels = JSON.parse(
      (await docker('inspect', '--format', '{{json .Config.Labels}}', outcome.containerId)).stdout,
    );
    expect(labels).toMatchObject({ 'ds01.user': alice.name, 'ds01.interface': 'vscode' });
    expect(labels['devcontainer.local_folder']).toBe(project);
    await docker('rm', '-f', outcome.containerId);
  });
});
